"""Synthetic physiological signals with known truth (test support)."""

from __future__ import annotations

import numpy as np


def abp_beat(n: int, fs: float, sbp: float, dbp: float, rise_s: float = 0.12) -> np.ndarray:
    """One arterial pulse of ``n`` samples starting at its foot (``dbp``).

    A half-cosine upstroke to ``sbp`` over ``rise_s``, then an exponential
    run-off that reaches ``dbp`` exactly at the next beat's foot.
    """
    t = np.arange(n) / fs
    period = n / fs
    tau = 0.35
    up = t < rise_s
    beat = np.empty(n)
    beat[up] = dbp + (sbp - dbp) * 0.5 * (1 - np.cos(np.pi * t[up] / rise_s))
    floor = np.exp(-(period - rise_s) / tau)
    decay = (np.exp(-(t[~up] - rise_s) / tau) - floor) / (1 - floor)
    beat[~up] = dbp + (sbp - dbp) * decay
    return beat


def abp_train(
    fs: float,
    periods_s: np.ndarray,
    sbp: np.ndarray | float = 120.0,
    dbp: np.ndarray | float = 70.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A pressure trace of consecutive pulses and the sample index of each foot."""
    periods_s = np.asarray(periods_s, dtype=np.float64)
    sbp = np.broadcast_to(sbp, periods_s.shape)
    dbp = np.broadcast_to(dbp, periods_s.shape)
    lengths = np.round(periods_s * fs).astype(np.int64)
    feet = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    trace = np.concatenate(
        [abp_beat(n, fs, s, d) for n, s, d in zip(lengths, sbp, dbp, strict=True)]
    )
    return trace, feet


def pleth_train(fs: float, rate_bpm: float, seconds: float, seed: int = 0) -> np.ndarray:
    """A PPG-like wave (fundamental plus harmonics, mild noise and baseline drift)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    f = rate_bpm / 60.0
    phase = 2 * np.pi * f * t
    wave = np.sin(phase) + 0.35 * np.sin(2 * phase - 0.8) + 0.1 * np.sin(3 * phase - 1.5)
    drift = 0.3 * np.sin(2 * np.pi * 0.05 * t)
    return 50 + 20 * (wave + drift) + rng.normal(0, 0.5, len(t))


def resp_train(fs: float, rate_bpm: float, seconds: float, seed: int = 0) -> np.ndarray:
    """An impedance-like respiration trace with a small cardiac oscillation and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    breathing = np.sin(2 * np.pi * rate_bpm / 60.0 * t)
    cardiac = 0.08 * np.sin(2 * np.pi * 1.2 * t)
    return 10 * (breathing + cardiac) + rng.normal(0, 0.3, len(t))

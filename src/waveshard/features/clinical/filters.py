"""Cheap building blocks shared by the detectors: decimation and moving sums."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.signal


def block_mean(x: np.ndarray, q: int) -> np.ndarray:
    """Average every ``q`` samples (a boxcar anti-alias filter plus decimation).

    The last incomplete block is dropped; the result's sample ``i`` stands for
    input samples ``[i q, (i + 1) q)``, i.e. time ``(i q + (q - 1) / 2) / fs``.
    Summed as ``q`` strided slices: faster than a mean over short rows.
    """
    if q <= 1:
        return x
    n = len(x) // q
    total = x[0 : n * q : q].copy()
    for k in range(1, q):
        total += x[k : n * q : q]
    total *= 1.0 / q
    return total


def edges_of(mask: np.ndarray) -> np.ndarray:
    """``[start, stop)`` pairs of the runs of True in a boolean array."""
    if not len(mask):
        return np.empty((0, 2), dtype=np.int64)
    change = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    bounds = np.concatenate([[0], change, [len(mask)]])
    runs = np.column_stack([bounds[:-1], bounds[1:]])
    return runs[0 if mask[0] else 1 :: 2].astype(np.int64)


def centered_moving_average(x: np.ndarray, n: int) -> np.ndarray:
    """Mean over ``n`` samples centred on each sample (shorter at the ends)."""
    if n <= 1 or len(x) == 0:
        return x.astype(np.float64, copy=True)
    half = n // 2
    c = np.empty(len(x) + 1)
    c[0] = 0.0
    np.cumsum(x, out=c[1:])
    if n > len(x):  # every window is clipped: index arithmetic on a short signal
        i = np.arange(len(x))
        lo, hi = np.maximum(i - half, 0), np.minimum(i - half + n, len(x))
        return (c[hi] - c[lo]) / (hi - lo)
    # Window of sample i: [i - half, i - half + n), clipped to the signal.
    out = np.empty(len(x))
    inner = slice(half, len(x) - n + half + 1)
    out[inner] = (c[n:] - c[: len(x) - n + 1]) / n
    for i in range(min(half, len(x))):  # the few edge samples, one by one
        hi = min(i - half + n, len(x))
        out[i] = c[hi] / hi
    for i in range(max(len(x) - n + half + 1, half), len(x)):
        lo = i - half
        out[i] = (c[len(x)] - c[lo]) / (len(x) - lo)
    return out


@lru_cache(maxsize=64)
def bandpass_sos(low_hz: float, high_hz: float, fs: float, order: int = 2) -> np.ndarray:
    """Second-order sections of a Butterworth band-pass (cached per rate)."""
    high_hz = min(high_hz, 0.45 * fs)
    return scipy.signal.butter(order, (low_hz, high_hz), btype="bandpass", output="sos", fs=fs)


def zero_phase_bandpass(x: np.ndarray, fs: float, low_hz: float, high_hz: float) -> np.ndarray:
    """Zero-phase Butterworth band-pass of a run without NaN (short runs padded less)."""
    sos = bandpass_sos(low_hz, high_hz, fs)
    padlen = min(3 * (2 * len(sos) + 1), len(x) - 1)
    return scipy.signal.sosfiltfilt(sos, x, padlen=max(padlen, 0))


def causal_bandpass(x: np.ndarray, fs: float, low_hz: float, high_hz: float) -> np.ndarray:
    """Butterworth band-pass run forward only, started in its steady state.

    Half the cost of :func:`zero_phase_bandpass`. It delays a quasi-periodic
    signal by about the same time at every cycle, so intervals between
    events (all that a rate needs) are unchanged; event times are late by
    that delay.
    """
    sos = bandpass_sos(low_hz, high_hz, fs)
    zi = scipy.signal.sosfilt_zi(sos) * x[0]
    filtered, _ = scipy.signal.sosfilt(sos, x, zi=zi)
    return filtered


def parabolic_peak(y: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Sub-sample positions of local maxima by a parabola through three samples."""
    inner = (peaks > 0) & (peaks < len(y) - 1)
    position = peaks.astype(np.float64)
    p = peaks[inner]
    left, centre, right = y[p - 1], y[p], y[p + 1]
    denominator = left - 2 * centre + right
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(denominator < 0, 0.5 * (left - right) / denominator, 0.0)
    position[inner] += np.clip(shift, -0.5, 0.5)
    return position


def segment_argmax(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of the (first) maximum of ``x`` inside each ``[start, stop)`` block.

    Args:
        x: Values without NaN.
        edges: ``(n, 2)`` non-empty, non-overlapping blocks in ascending order.

    Returns:
        ``n`` indices into ``x``, computed without a Python loop.
    """
    lengths = edges[:, 1] - edges[:, 0]
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    members = np.arange(lengths.sum()) + np.repeat(edges[:, 0] - offsets, lengths)
    owner = np.repeat(np.arange(len(edges)), lengths)
    values = x[members]
    hit = np.flatnonzero(values == np.maximum.reduceat(values, offsets)[owner])
    first = hit[np.concatenate([[True], owner[hit][1:] != owner[hit][:-1]])]
    return members[first]

"""Pulse detection in the photoplethysmogram (PLETH).

Systolic peaks are found with the two event-related moving averages of
Elgendi M, Norton I, Brearley M, Abbott D, Schuurmans D. Systolic peak
detection in acceleration photoplethysmograms measured from emergency
responders in tropical conditions. PLoS ONE 2013;8(10):e76585, written from
the paper: a 0.5-8 Hz band-pass, the squared positive part ``S``, a 111 ms
("peak") and a 667 ms ("beat") moving average of ``S``; blocks where the peak
average exceeds the beat average plus ``0.02 * mean(S)`` and last at least
111 ms each hold one pulse, at the block's maximum.

Only the pulse rate is wanted, so the signal is first averaged down to about
25 Hz (the band of interest ends at 8 Hz) and each peak is refined to a
fraction of a sample with a parabola.
"""

from __future__ import annotations

import math

import numpy as np

from waveshard.features.clinical.filters import (
    block_mean,
    causal_bandpass,
    centered_moving_average,
    edges_of,
    parabolic_peak,
    segment_argmax,
)
from waveshard.features.clinical.spans import finite_spans

PEAK_WINDOW_S = 0.111
BEAT_WINDOW_S = 0.667
OFFSET_FACTOR = 0.02
BAND_HZ = (0.5, 8.0)
WORKING_FS = 50.0


def _peaks_in_span(x: np.ndarray, fs: float) -> np.ndarray:
    """Pulse peaks of one valid run at rate ``fs``, as fractional sample positions."""
    filtered = causal_bandpass(x, fs, *BAND_HZ)
    squared = np.maximum(filtered, 0.0)
    squared *= squared
    peak_average = centered_moving_average(squared, max(1, round(PEAK_WINDOW_S * fs)))
    beat_average = centered_moving_average(squared, max(1, round(BEAT_WINDOW_S * fs)))
    threshold = beat_average + OFFSET_FACTOR * squared.mean()
    edges = edges_of(peak_average > threshold)
    if not len(edges):
        return np.zeros(0)
    edges = edges[(edges[:, 1] - edges[:, 0]) >= max(1, round(PEAK_WINDOW_S * fs))]
    if not len(edges):
        return np.zeros(0)
    peaks = segment_argmax(filtered, edges)
    return parabolic_peak(filtered, peaks)


def detect_pleth_peaks(pleth: np.ndarray, fs: float) -> np.ndarray:
    """Detect the systolic peaks of a photoplethysmogram.

    Args:
        pleth: PLETH samples (any unit); NaN marks invalid samples.
        fs: Sampling frequency in Hz.

    Returns:
        Peak times as fractional sample indices of ``pleth`` (float64),
        ascending. Runs of valid samples shorter than 2 s, flat runs and an
        all-NaN input give none.

    Raises:
        ValueError: If ``fs`` is not a positive number or ``pleth`` is not 1-D.
    """
    if not (fs > 0 and math.isfinite(fs)):
        raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
    pleth = np.asarray(pleth, dtype=np.float64)
    if pleth.ndim != 1:
        raise ValueError(f"pleth must be a 1-D array, got shape {pleth.shape}")
    return pleth_peaks_in_spans(pleth, fs, finite_spans(pleth))


def pleth_peaks_in_spans(pleth: np.ndarray, fs: float, spans: np.ndarray) -> np.ndarray:
    """:func:`detect_pleth_peaks` with the runs of valid samples already known."""
    q = max(1, math.floor(fs / WORKING_FS))
    rate = fs / q
    found = []
    for start, stop in spans:
        if stop - start < max(int(2.0 * fs), 4 * q):
            continue
        low = block_mean(pleth[start:stop], q)
        if len(low) < 8 or np.ptp(low) == 0:
            continue
        peaks = _peaks_in_span(low, rate)
        # A decimated sample i stands for input samples [iq, iq + q).
        found.append(start + peaks * q + (q - 1) / 2)
    return np.concatenate(found) if found else np.zeros(0)

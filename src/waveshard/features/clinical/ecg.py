"""R-peak detection in an ECG of any sampling rate, NaN-safe.

The detector is sleepecg's (Hofer & Brunner; BSD-3-Clause, C backend), a
Pan & Tompkins (1985) detector with a zero-phase 5-30 Hz Butterworth band-pass,
a 150 ms integration window and adaptive thresholds with search-back. Every
time constant of it scales with ``fs``; its authors recommend at least 100 Hz
(below 60 Hz its 30 Hz band edge is above the Nyquist frequency and the filter
cannot be built), so slower signals are first resampled to a rate of at least
100 Hz and the detections mapped back. The README compares it with NeuroKit2's
``neurokit`` method on MIT-BIH record 100 at 360 and 125 Hz.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.signal
from sleepecg import detect_heartbeats

from waveshard.features.clinical.spans import finite_spans

#: sleepecg's authors recommend at least this rate; slower ECGs are resampled.
DETECTOR_MIN_FS = 100.0
#: Shorter runs of valid samples are skipped: the detector learns its thresholds
#: from the first 2 s, and a run that short holds two or three beats at most.
MIN_SPAN_S = 2.0


def _detect_in_span(ecg: np.ndarray, fs: float) -> np.ndarray:
    """Beats in one run of finite samples, as indices into that run."""
    up = 1 if fs >= DETECTOR_MIN_FS else math.ceil(DETECTOR_MIN_FS / fs)
    signal = ecg if up == 1 else scipy.signal.resample_poly(ecg, up, 1)
    if np.ptp(signal) == 0:
        return np.zeros(0, dtype=np.int64)  # a flat line has no beats
    try:
        beats = detect_heartbeats(signal, fs * up)
    except ValueError:
        # sleepecg refuses inputs it cannot threshold (too short after its
        # flat-start trimming); such a run has no detectable beats.
        return np.zeros(0, dtype=np.int64)
    beats = np.asarray(beats, dtype=np.int64)
    if up > 1:
        beats = np.unique(np.minimum(np.rint(beats / up).astype(np.int64), len(ecg) - 1))
    return beats


def detect_r_peaks(ecg: np.ndarray, fs: float) -> np.ndarray:
    """Detect the R peaks (heartbeats) of an ECG.

    Args:
        ecg: One ECG lead as a 1-D array in any unit (the detector is scale
            invariant); NaN marks invalid samples.
        fs: Sampling frequency in Hz (any positive rate; below 100 Hz the
            signal is resampled internally).

    Returns:
        Sample indices of the detected beats, ascending (int64). Each run of
        valid samples is analysed on its own; runs shorter than 2 s, flat runs
        and an all-NaN or empty input give no beats. Never raises for bad
        sample values.

    Raises:
        ValueError: If ``fs`` is not a positive number or ``ecg`` is not 1-D.

    Example:
        >>> beats = detect_r_peaks(ecg, 125.0)
        >>> rr_seconds = np.diff(beats) / 125.0
    """
    if not (fs > 0 and math.isfinite(fs)):
        raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
    ecg = np.asarray(ecg, dtype=np.float64)
    if ecg.ndim != 1:
        raise ValueError(f"ecg must be a 1-D array, got shape {ecg.shape}")
    return r_peaks_in_spans(ecg, fs, finite_spans(ecg))


def r_peaks_in_spans(ecg: np.ndarray, fs: float, spans: np.ndarray) -> np.ndarray:
    """:func:`detect_r_peaks` with the runs of valid samples already known."""
    min_length = max(int(MIN_SPAN_S * fs), 2)
    found = [
        start + _detect_in_span(ecg[start:stop], fs)
        for start, stop in spans
        if stop - start >= min_length
    ]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

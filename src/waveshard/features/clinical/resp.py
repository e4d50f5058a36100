"""Breath detection in the respiration waveform (RESP, impedance pneumography).

Breaths are counted with the "count-orig" method of Schäfer A, Kratky KW.
Estimation of breathing rate from respiratory sinus arrhythmia: comparison of
various methods. Annals of Biomedical Engineering 2008;36(3):476-485, as
evaluated on clinical data by Charlton PH et al. An assessment of algorithms
to estimate respiratory rate from the electrocardiogram and
photoplethysmogram. Physiological Measurement 2016;37(4):610-626. Written
from the papers:

1. The signal is averaged down to about 10 Hz and band-passed (default
   0.1-1.0 Hz, 6-60 breaths/min: adult rates, and below the cardiac
   oscillation impedance signals carry; raise the upper edge for neonates).
2. Local maxima above ``0.2 * Q3`` of all local maxima are relevant peaks;
   local minima below ``0.2 * Q1`` of all local minima (a negative value) are
   relevant troughs. The quartiles are taken per block of ``block_s``
   seconds, so amplitude changes over hours do not matter.
3. A breath is the interval between two consecutive relevant peaks with
   exactly one relevant trough between them.
"""

from __future__ import annotations

import math

import numpy as np

from waveshard.features.clinical.filters import block_mean, zero_phase_bandpass
from waveshard.features.clinical.grouping import Groups
from waveshard.features.clinical.spans import finite_spans

WORKING_FS = 10.0
DEFAULT_BAND_HZ = (0.1, 1.0)
RELEVANCE = 0.2
BLOCK_S = 60.0


def _extrema(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of strict local maxima and minima (plateaus count once, at their start)."""
    d = np.sign(np.diff(y))
    # Carry the last non-zero slope over flat steps so plateaus are not missed.
    nonzero = np.flatnonzero(d)
    if not len(nonzero):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    slope = d[nonzero]
    turns = np.flatnonzero(np.diff(slope))
    index = nonzero[turns] + 1  # first sample after the last step of the old slope
    kind = slope[turns]  # +1: rising then falling -> maximum
    return index[kind > 0], index[kind < 0]


def _relevant(values: np.ndarray, positions: np.ndarray, quantile: float, block: int) -> np.ndarray:
    """Which extrema pass ``RELEVANCE`` times their block's quartile."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    owner = positions // block
    owner = owner - owner[0]
    limit = RELEVANCE * Groups(owner, int(owner[-1]) + 1).quantile(values, quantile)[owner]
    return values > limit if quantile > 0.5 else values < limit


def _breaths_in_span(y: np.ndarray, fs: float, block_s: float) -> np.ndarray:
    maxima, minima = _extrema(y)
    if len(maxima) < 2 or not len(minima):
        return np.zeros(0)
    block = max(1, round(block_s * fs))
    peaks = maxima[_relevant(y[maxima], maxima, 0.75, block)]
    troughs = minima[_relevant(y[minima], minima, 0.25, block)]
    if len(peaks) < 2:
        return np.zeros(0)
    # Relevant troughs between consecutive relevant peaks: exactly one makes a breath.
    between = np.diff(np.searchsorted(troughs, peaks))
    ends = np.flatnonzero(between == 1) + 1
    # Each breath is reported at its closing peak; its length follows from the
    # previous peak, so return both ends as a pair per breath.
    return np.stack([peaks[ends - 1], peaks[ends]], axis=1).astype(np.float64)


def detect_breaths(
    resp: np.ndarray,
    fs: float,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
    block_s: float = BLOCK_S,
) -> np.ndarray:
    """Detect breaths in a respiration waveform.

    Args:
        resp: RESP samples (any unit); NaN marks invalid samples.
        fs: Sampling frequency in Hz.
        band_hz: Band-pass edges in Hz; the upper edge caps the rate found.
        block_s: Length of the blocks over which peak and trough thresholds are set.

    Returns:
        An ``(n, 2)`` float64 array: for each breath the sample positions (in
        ``resp``'s samples, fractional) of the peak that opens it and the peak
        that closes it. Runs of valid samples shorter than 10 s, flat runs and
        an all-NaN input give none.

    Raises:
        ValueError: If ``fs`` is not a positive number or ``resp`` is not 1-D.
    """
    if not (fs > 0 and math.isfinite(fs)):
        raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
    resp = np.asarray(resp, dtype=np.float64)
    if resp.ndim != 1:
        raise ValueError(f"resp must be a 1-D array, got shape {resp.shape}")
    return breaths_in_spans(resp, fs, finite_spans(resp), band_hz, block_s)


def breaths_in_spans(
    resp: np.ndarray,
    fs: float,
    spans: np.ndarray,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
    block_s: float = BLOCK_S,
) -> np.ndarray:
    """:func:`detect_breaths` with the runs of valid samples already known."""
    q = max(1, math.floor(fs / WORKING_FS))
    rate = fs / q
    found = []
    for start, stop in spans:
        if stop - start < max(int(10.0 * fs), 8 * q):
            continue
        low = block_mean(resp[start:stop], q)
        if len(low) < 16 or np.ptp(low) == 0:
            continue
        filtered = zero_phase_bandpass(low - low.mean(), rate, *band_hz)
        breaths = _breaths_in_span(filtered, rate, block_s)
        found.append(start + breaths * q + (q - 1) / 2)
    return np.concatenate(found) if found else np.zeros((0, 2))

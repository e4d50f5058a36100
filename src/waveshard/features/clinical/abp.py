"""Arterial blood pressure: pulse onsets, per-beat pressures and beat quality.

Onset detection follows Zong W, Heldt T, Moody GB, Mark RG. An open-source
algorithm to detect onset of arterial blood pressure pulses. Computers in
Cardiology 2003;30:259-262, written here from the paper (no code of its C
implementation is used):

1. Low-pass filter. The paper's recursive filter at 125 Hz,
   ``y(n) = 2y(n-1) - y(n-2) + x(n) - 2x(n-5) + x(n-10)``, is two cascaded
   5-point moving sums; for any rate we cascade two moving averages of
   ``round(fs / 25)`` samples (first zero at 25 Hz, as in the paper) and
   remove their known delay, so the filtered pressure stays in mmHg.
2. Slope sum function ``z(i) = sum(max(dy(k), 0) for k in (i - w, i])`` over a
   window ``w`` of 128 ms.
3. Decision rule: the threshold base is three times the mean SSF of the first
   10 s and follows each accepted pulse's SSF maximum (a running average that
   moves 10 % of the way to each new maximum, counted at most as twice the
   base so that one large artifact does not blind it); a pulse is an SSF peak
   above 60 % of the base, at least a refractory period ("eye-closing",
   250 ms) after the previous pulse. When no pulse was found for 2.5 s the
   threshold halves for every further 2.5 s (the paper lowers it when pulses
   stop; the halving is our choice).
4. Onset: searching back from the SSF peak, the last sample where the SSF is
   below 1 % of that peak's height (where the upstroke begins).

Per-beat values (a beat runs from one onset to the next, both in one run of
valid samples): SBP = maximum, DBP = minimum, MAP = mean pressure over the
beat, PP = SBP - DBP. Beat quality applies the abnormality criteria of
Sun JX, Reisner AT, Mark RG. A signal abnormality index for arterial blood
pressure waveforms. Computers in Cardiology 2006;33:13-16 (see
:class:`AbpQualityRules`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.signal

from waveshard.features.clinical.spans import finite_spans, same_span

SSF_WINDOW_S = 0.128
REFRACTORY_S = 0.25
LEARNING_S = 10.0
NO_PULSE_S = 2.5
THRESHOLD_FRACTION = 0.6
#: Weight of a new pulse's SSF maximum in the threshold base, and the most a
#: pulse may count as (in multiples of the base): one flush or motion artifact
#: ten times a normal pulse must not lift the threshold above the next pulses.
BASE_UPDATE = 0.1
BASE_UPDATE_CAP = 2.0
ONSET_FRACTION = 0.01
#: How far before its SSF peak an onset may lie: the SSF window plus the
#: longest upstroke we expect (a little over 250 ms in damped or slow pulses).
ONSET_SEARCH_S = SSF_WINDOW_S + 0.25
#: SSF peaks lower than this (mmHg rise per SSF window) are quantization noise.
MIN_SSF_MMHG = 1.0


def slope_sum_function(abp: np.ndarray, fs: float) -> np.ndarray:
    """Zong et al.'s slope sum function of one run of valid samples, in mmHg.

    Only the slope of the low-passed pressure is needed, and the slope of a
    moving average is the moving average of the slope, so the cascade is
    computed on differences directly: a few passes over the signal, no
    filtered copy of it.

    Args:
        abp: Pressure samples without NaN.
        fs: Sampling frequency in Hz.

    Returns:
        The SSF, aligned with ``abp`` (the low-pass filter's delay removed).
    """
    n = len(abp)
    m = max(1, round(fs / 25.0))
    w = max(1, round(SSF_WINDOW_S * fs))
    ssf = np.zeros(n)
    if n <= 2 * m:
        return ssf
    # dy of the first moving average, ending at sample i: (x[i] - x[i - m]) / m.
    slope = abp[m:] - abp[:-m]
    # Second moving average of the slopes as a short convolution (the 1/m^2
    # scale is applied at the end); numpy's convolve is fast for so few taps.
    rises = np.convolve(slope, np.ones(m), mode="valid")
    np.maximum(rises, 0.0, out=rises)
    # Slope sum over the last w samples (fewer at the start), from a running sum:
    # for w ~ 16 taps that is faster than a convolution.
    total = np.cumsum(rises)
    # rises[j] ends at input sample j + 2m - 1; the cascade delays by m - 1, so
    # it belongs at sample j + m.
    start, stop = m, m + len(total)
    ssf[start:stop] = total
    ssf[start + w : stop] -= total[:-w]
    ssf[stop:] = ssf[stop - 1]
    ssf *= 1.0 / (m * m)
    return ssf


def _accept_pulses_one_by_one(
    peaks: np.ndarray, heights: np.ndarray, base: float, fs: float
) -> np.ndarray:
    """The adaptive-threshold rule, candidate by candidate (the definition)."""
    refractory = REFRACTORY_S * fs
    no_pulse = NO_PULSE_S * fs
    fraction, update, cap = THRESHOLD_FRACTION, BASE_UPDATE, BASE_UPDATE_CAP
    accepted: list[int] = []
    last = -math.inf  # last accepted peak (refractory period)
    since = 0.0  # last accepted peak, or the start (no-pulse rule)
    for i, (peak, height) in enumerate(zip(peaks.tolist(), heights.tolist(), strict=True)):
        if peak - last < refractory:
            continue
        threshold = fraction * base
        waited = peak - since
        if waited > no_pulse:
            threshold *= 0.5 ** (waited // no_pulse)
        if height > threshold:
            accepted.append(i)
            last = since = peak
            limit = cap * base
            base += update * ((height if height < limit else limit) - base)
    return np.array(accepted, dtype=np.int64)


def _accept_pulses(peaks: np.ndarray, heights: np.ndarray, base: float, fs: float) -> np.ndarray:
    """The adaptive-threshold rule over candidate SSF peaks, without a loop per peak.

    The rule is sequential (each accepted pulse moves the threshold), but its
    outcome is a fixed point: a set of accepted candidates such that the
    thresholds those candidates imply accept exactly them. Starting from
    "all accepted", each round computes the thresholds implied by the current
    set with a linear filter and re-decides every candidate at once; when a
    round changes nothing, the set is exactly what the one-by-one rule gives.
    Rarely, rounds keep changing; then the one-by-one rule decides.

    Candidates come from ``find_peaks`` with the refractory period as minimum
    distance, so no two are closer than it and that test is already done.
    """
    n = len(peaks)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    no_pulse = NO_PULSE_S * fs
    accepted = np.ones(n, dtype=bool)
    capped = heights.copy()
    for _ in range(12):
        # Base after each accepted candidate: b <- b + u (c - b), a first-order filter.
        index = np.flatnonzero(accepted)
        before = np.full(n, base)
        if len(index):
            base_after, _ = scipy.signal.lfilter(
                [BASE_UPDATE], [1.0, BASE_UPDATE - 1.0], capped[index],
                zi=[(1.0 - BASE_UPDATE) * base],
            )  # fmt: skip
            # The base in force at each candidate: after the last accepted one before it.
            count_before = np.cumsum(accepted) - accepted
            seen = count_before > 0
            before[seen] = base_after[count_before[seen] - 1]
        last_peak = np.where(accepted, peaks, -1)
        previous = np.maximum.accumulate(np.concatenate([[-1], last_peak[:-1]]))
        waited = peaks - np.where(previous >= 0, previous, 0)
        halvings = np.where(waited > no_pulse, np.floor(waited / no_pulse), 0.0)
        threshold = THRESHOLD_FRACTION * before * 0.5**halvings
        decided = heights > threshold
        new_capped = np.minimum(heights, BASE_UPDATE_CAP * before)
        if np.array_equal(decided, accepted) and np.array_equal(new_capped, capped):
            return np.flatnonzero(accepted)
        accepted, capped = decided, new_capped
    return _accept_pulses_one_by_one(peaks, heights, base, fs)


def _onsets_in_span(abp: np.ndarray, fs: float) -> np.ndarray:
    ssf = slope_sum_function(abp, fs)
    learning = ssf[: max(1, int(LEARNING_S * fs))]
    base = 3.0 * float(learning.mean())
    if not base > 0:
        return np.zeros(0, dtype=np.int64)
    peaks, props = scipy.signal.find_peaks(
        ssf, height=MIN_SSF_MMHG, distance=max(1, round(REFRACTORY_S * fs))
    )
    if not len(peaks):
        return np.zeros(0, dtype=np.int64)
    keep = _accept_pulses(peaks, props["peak_heights"], base, fs)
    peaks, heights = peaks[keep], props["peak_heights"][keep]
    # Onset: the last sample before each peak whose SSF is under 1 % of the peak.
    reach = max(2, round(ONSET_SEARCH_S * fs))
    offsets = np.arange(-reach, 1)
    index = np.clip(peaks[:, None] + offsets[None, :], 0, len(ssf) - 1)
    below = ssf[index] <= ONSET_FRACTION * heights[:, None]
    has_foot = below.any(axis=1)
    last_below = reach - np.argmax(below[:, ::-1], axis=1)
    # Without a clear foot inside the search window, take the SSF minimum there.
    fallback = np.argmin(ssf[index], axis=1)
    position = np.where(has_foot, last_below, fallback)
    onsets = np.clip(peaks - reach + position, 0, len(abp) - 1)
    return np.unique(onsets)


def detect_pulse_onsets(abp: np.ndarray, fs: float) -> np.ndarray:
    """Detect the onsets (feet) of arterial pressure pulses (Zong et al. 2003).

    Args:
        abp: Arterial pressure in mmHg as a 1-D array; NaN marks invalid samples.
        fs: Sampling frequency in Hz (any positive rate; the paper's constants
            are kept in seconds).

    Returns:
        Sample indices of pulse onsets, ascending (int64). Each run of valid
        samples is analysed on its own; runs shorter than 2 s, flat runs and
        an all-NaN or empty input give none.

    Raises:
        ValueError: If ``fs`` is not a positive number or ``abp`` is not 1-D.
    """
    if not (fs > 0 and math.isfinite(fs)):
        raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
    abp = np.asarray(abp, dtype=np.float64)
    if abp.ndim != 1:
        raise ValueError(f"abp must be a 1-D array, got shape {abp.shape}")
    return pulse_onsets_in_spans(abp, fs, finite_spans(abp))


def pulse_onsets_in_spans(abp: np.ndarray, fs: float, spans: np.ndarray) -> np.ndarray:
    """:func:`detect_pulse_onsets` with the runs of valid samples already known."""
    min_length = max(int(2.0 * fs), 4)
    found = [
        start + _onsets_in_span(abp[start:stop], fs)
        for start, stop in spans
        if stop - start >= min_length
    ]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class AbpQualityRules:
    """Beat abnormality criteria of Sun, Reisner & Mark (2006).

    A beat is rejected when any criterion holds. Pressures in mmHg; the
    beat-to-beat changes compare a beat with the one before it. The noise
    criterion is the paper's mean negative slope of -3 mmHg per sample at
    125 Hz, expressed per second so that it holds at any rate.
    """

    min_dbp: float = 20.0
    max_sbp: float = 300.0
    min_map: float = 30.0
    max_map: float = 200.0
    min_rate_bpm: float = 20.0
    max_rate_bpm: float = 200.0
    min_pp: float = 20.0
    max_sbp_change: float = 20.0
    max_dbp_change: float = 20.0
    max_onset_change: float = 20.0
    max_period_change_s: float = 0.5
    min_mean_negative_slope: float = -3.0 * 125.0  # mmHg/s


@dataclass(frozen=True)
class AbpBeats:
    """Per-beat values of an arterial pressure signal.

    Attributes:
        onset: Sample index where each beat starts (its pulse onset).
        end: Sample index where it ends (the next onset).
        sbp, dbp, map, pp: Systolic, diastolic, mean and pulse pressure (mmHg).
        rejected: Whether the quality rules reject the beat.
    """

    onset: np.ndarray
    end: np.ndarray
    sbp: np.ndarray
    dbp: np.ndarray
    map: np.ndarray
    pp: np.ndarray
    rejected: np.ndarray

    def __len__(self) -> int:
        return len(self.onset)


def _empty_beats() -> AbpBeats:
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    return AbpBeats(empty_i, empty_i, empty_f, empty_f, empty_f, empty_f, np.zeros(0, bool))


def abp_beats(
    abp: np.ndarray,
    fs: float,
    onsets: np.ndarray,
    rules: AbpQualityRules | None = None,
    spans: np.ndarray | None = None,
) -> AbpBeats:
    """Per-beat pressures and quality between consecutive pulse onsets.

    Args:
        abp: Arterial pressure in mmHg (NaN = invalid).
        fs: Sampling frequency in Hz.
        onsets: Pulse onsets from :func:`detect_pulse_onsets`.
        rules: Quality criteria (default: Sun et al. 2006).
        spans: The runs of valid samples, when already known.

    Returns:
        One entry per pair of consecutive onsets with no invalid sample
        between them; pressures computed with vectorized reductions.
    """
    rules = rules or AbpQualityRules()
    abp = np.asarray(abp, dtype=np.float64)
    onsets = np.asarray(onsets, dtype=np.int64)
    if len(onsets) < 2:
        return _empty_beats()
    spans = finite_spans(abp) if spans is None else spans
    contiguous = same_span(onsets, spans)
    if not contiguous.any():
        return _empty_beats()
    start, end = onsets[:-1], onsets[1:]
    # Reductions over [onset_i, onset_{i+1}) for all consecutive pairs at once;
    # pairs that straddle a NaN are computed too (NaN) and dropped below.
    section = slice(onsets[0], onsets[-1])
    bounds = onsets[:-1] - onsets[0]
    x = abp[section]
    sbp = np.maximum.reduceat(x, bounds)
    dbp = np.minimum.reduceat(x, bounds)
    length = (end - start).astype(np.float64)
    mean = np.add.reduceat(x, bounds) / length
    slopes = np.diff(abp[onsets[0] : onsets[-1] + 1]) * fs
    negative = np.minimum(slopes, 0.0)
    n_negative = np.add.reduceat((slopes < 0).view(np.int8), bounds, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_negative = np.add.reduceat(negative, bounds) / n_negative
    mean_negative[n_negative == 0] = 0.0
    onset_pressure = abp[start]

    keep = contiguous
    start, end = start[keep], end[keep]
    sbp, dbp, mean = sbp[keep], dbp[keep], mean[keep]
    period = (end - start) / fs
    onset_pressure, mean_negative = onset_pressure[keep], mean_negative[keep]
    pp = sbp - dbp
    rate = 60.0 / period
    rejected = (
        (dbp < rules.min_dbp)
        | (sbp > rules.max_sbp)
        | (mean < rules.min_map)
        | (mean > rules.max_map)
        | (rate < rules.min_rate_bpm)
        | (rate > rules.max_rate_bpm)
        | (pp < rules.min_pp)
        | (mean_negative < rules.min_mean_negative_slope)
    )
    # Changes against the previous beat, only when the two beats touch.
    touching = np.zeros(len(start), dtype=bool)
    touching[1:] = start[1:] == end[:-1]
    jump = np.zeros(len(start), dtype=bool)
    jump[1:] = (
        (np.abs(np.diff(sbp)) > rules.max_sbp_change)
        | (np.abs(np.diff(dbp)) > rules.max_dbp_change)
        | (np.abs(np.diff(onset_pressure)) > rules.max_onset_change)
        | (np.abs(np.diff(period)) > rules.max_period_change_s)
    )
    rejected |= jump & touching
    return AbpBeats(start, end, sbp, dbp, mean, pp, rejected)

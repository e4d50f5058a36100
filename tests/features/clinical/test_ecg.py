"""R-peak detection against MIT-BIH record 100's reference beats (EC57 matching)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import wfdb
from wfdb import processing

from tests.support.paths import MITDB
from waveshard.features.clinical import detect_r_peaks
from waveshard.features.clinical.evaluation import (
    BEAT_SYMBOLS,
    EC57_WINDOW_S,
    match_beats,
)

MITDB_FS = 360


@pytest.fixture(scope="module")
def mitdb_100() -> tuple[np.ndarray, np.ndarray]:
    """Lead MLII of record 100 (mV, 360 Hz) and its reference beat samples."""
    record = wfdb.rdrecord(str(MITDB / "100"))
    annotation = wfdb.rdann(str(MITDB / "100"), "atr")
    beats = np.array(
        [
            s
            for s, sym in zip(annotation.sample, annotation.symbol, strict=True)
            if sym in BEAT_SYMBOLS
        ]
    )
    return record.p_signal[:, 0], beats


def resample(ecg: np.ndarray, beats: np.ndarray, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """The ECG resampled to ``fs`` and the reference beats rescaled to it."""
    g = np.gcd(fs, MITDB_FS)
    ecg = scipy.signal.resample_poly(ecg, fs // g, MITDB_FS // g)
    return ecg, np.round(beats * fs / MITDB_FS).astype(np.int64)


@pytest.mark.parametrize("fs", [360, 125])
def test_mitdb_100_sensitivity_and_positive_predictivity(mitdb_100, fs) -> None:
    ecg, reference = mitdb_100
    if fs != MITDB_FS:
        ecg, reference = resample(ecg, reference, fs)
    result = match_beats(detect_r_peaks(ecg, fs), reference, EC57_WINDOW_S * fs)
    assert result.sensitivity >= 0.995, result
    assert result.positive_predictivity >= 0.995, result


@pytest.mark.parametrize("fs", [62.5, 100, 500])
def test_other_rates_still_find_the_beats(mitdb_100, fs) -> None:
    ecg, reference = mitdb_100
    minutes = 5 * 60 * MITDB_FS
    target = int(fs * 2)  # resample_poly needs integers: work at 2 fs, then decimate
    ecg2, reference2 = resample(ecg[:minutes], reference[reference < minutes], target)
    ecg_fs, reference_fs = ecg2[::2], np.round(reference2 / 2)
    result = match_beats(detect_r_peaks(ecg_fs, fs), reference_fs, EC57_WINDOW_S * fs)
    assert result.sensitivity >= 0.99, result
    assert result.positive_predictivity >= 0.99, result


def test_agrees_with_wfdb_xqrs_at_125_hz(mitdb_100) -> None:
    """Cross-check with an independent detector (wfdb's XQRS) on the whole record."""
    ecg, _reference = resample(*mitdb_100, 125)
    ours = detect_r_peaks(ecg, 125)
    theirs = processing.xqrs_detect(ecg, fs=125, verbose=False)
    agreement = match_beats(ours, theirs, EC57_WINDOW_S * 125)
    assert agreement.sensitivity >= 0.99, agreement
    assert agreement.positive_predictivity >= 0.99, agreement


def test_nan_gaps_split_the_signal_and_hold_no_beats(mitdb_100) -> None:
    ecg, reference = mitdb_100
    ecg = ecg[: 120 * MITDB_FS].copy()
    reference = reference[reference < len(ecg)]
    gap = slice(40 * MITDB_FS, 50 * MITDB_FS)
    ecg[gap] = np.nan
    ecg[70 * MITDB_FS] = np.nan  # a single invalid sample
    beats = detect_r_peaks(ecg, MITDB_FS)
    assert not np.any((beats >= gap.start) & (beats < gap.stop))
    outside = reference[(reference < gap.start - 36) | (reference >= gap.stop + 2 * MITDB_FS)]
    result = match_beats(beats, outside, EC57_WINDOW_S * MITDB_FS)
    assert result.sensitivity >= 0.99, result


@pytest.mark.parametrize(
    "ecg",
    [
        np.zeros(0),
        np.array([0.3]),
        np.full(5000, np.nan),
        np.full(5000, 0.25),
        np.r_[np.full(2000, 0.1), np.full(2000, np.nan)],
        np.arange(100, dtype=float),  # shorter than the 2 s the detector learns from
    ],
    ids=["empty", "one-sample", "all-nan", "flat", "flat-then-nan", "too-short"],
)
def test_degenerate_inputs_give_no_beats(ecg) -> None:
    beats = detect_r_peaks(ecg, 125.0)
    assert beats.dtype == np.int64
    assert len(beats) == 0


@pytest.mark.parametrize("fs", [0, -1, float("nan"), float("inf")])
def test_bad_rate_is_a_clear_error(fs) -> None:
    with pytest.raises(ValueError, match="fs must be a positive number"):
        detect_r_peaks(np.zeros(1000), fs)

"""Pulse rate from PLETH and respiration rate from RESP on signals of known rate."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.signals import pleth_train, resp_train
from waveshard.features.clinical import detect_breaths, detect_pleth_peaks


@pytest.mark.parametrize("fs", [62.5, 125.0, 250.0])
@pytest.mark.parametrize("rate", [45.0, 72.0, 130.0])
def test_pleth_peaks_give_the_pulse_rate(fs, rate) -> None:
    peaks = detect_pleth_peaks(pleth_train(fs, rate, 120.0), fs)
    intervals = np.diff(peaks) / fs
    assert len(peaks) == pytest.approx(rate * 2, abs=3)
    assert 60.0 / np.median(intervals) == pytest.approx(rate, abs=1.0)


def test_pleth_peaks_skip_invalid_samples() -> None:
    fs = 125.0
    x = pleth_train(fs, 80.0, 60.0)
    x[2500:3500] = np.nan
    peaks = detect_pleth_peaks(x, fs)
    assert not np.any((peaks >= 2500) & (peaks < 3500))
    assert len(peaks) == pytest.approx(80 * (60 - 8) / 60, abs=3)


@pytest.mark.parametrize("fs", [25.0, 62.5, 125.0])
@pytest.mark.parametrize("rate", [8.0, 16.0, 30.0, 45.0])
def test_breaths_give_the_respiration_rate(fs, rate) -> None:
    breaths = detect_breaths(resp_train(fs, rate, 300.0), fs)
    intervals = (breaths[:, 1] - breaths[:, 0]) / fs
    assert len(breaths) >= rate * 5 * 0.9
    assert 60.0 / np.median(intervals) == pytest.approx(rate, rel=0.03)


@pytest.mark.parametrize(
    "x",
    [np.zeros(0), np.full(5000, np.nan), np.full(5000, 3.0), np.ones(10)],
    ids=["empty", "all-nan", "flat", "too-short"],
)
def test_degenerate_inputs_give_nothing(x) -> None:
    assert len(detect_pleth_peaks(x, 125.0)) == 0
    assert detect_breaths(x, 125.0).shape == (0, 2)

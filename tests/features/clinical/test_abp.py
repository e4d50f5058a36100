"""Pulse onsets (Zong et al. 2003), per-beat pressures and the beat quality rules."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.signals import abp_train
from waveshard.features.clinical import AbpQualityRules, abp_beats, detect_pulse_onsets
from waveshard.features.clinical.evaluation import match_beats


def _periods(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 0.8 + 0.05 * rng.standard_normal(n)


@pytest.mark.parametrize("fs", [62.5, 125.0, 250.0, 500.0])
def test_onsets_within_20_ms_of_the_feet(fs) -> None:
    trace, feet = abp_train(fs, _periods(120))
    onsets = detect_pulse_onsets(trace, fs)
    # Zong et al. report 96.4 % of onsets within 20 ms of manual annotations.
    result = match_beats(onsets, feet[1:], 0.020 * fs)
    assert result.sensitivity >= 0.98, result
    assert result.positive_predictivity >= 0.98, result


def test_per_beat_pressures_are_the_beat_extremes_and_mean() -> None:
    fs = 125.0
    sbp = np.linspace(110, 140, 60)
    dbp = np.full(60, 65.0)
    trace, _feet = abp_train(fs, _periods(60), sbp=sbp, dbp=dbp)
    beats = abp_beats(trace, fs, detect_pulse_onsets(trace, fs))
    assert len(beats) >= 55
    assert not beats.rejected.any()
    for i in range(len(beats)):
        segment = trace[beats.onset[i] : beats.end[i]]
        assert beats.sbp[i] == segment.max()
        assert beats.dbp[i] == segment.min()
        assert beats.map[i] == pytest.approx(segment.mean())
        assert beats.pp[i] == pytest.approx(segment.max() - segment.min())
    # And they are the physiological values of the synthetic pulses.
    assert np.all(np.abs(beats.dbp - 65.0) < 1.0)
    assert np.all((beats.sbp > 108) & (beats.sbp < 141))


def _one_abnormal(fs: float, **beat: float) -> tuple[np.ndarray, int]:
    periods = np.full(40, 0.8)
    sbp, dbp = np.full(40, 120.0), np.full(40, 70.0)
    if "period" in beat:
        periods[20] = beat["period"]
    sbp[20] = beat.get("sbp", 120.0)
    dbp[20] = beat.get("dbp", 70.0)
    trace, feet = abp_train(fs, periods, sbp=sbp, dbp=dbp)
    return trace, int(feet[20])


@pytest.mark.parametrize(
    ("beat", "reason"),
    [
        ({"sbp": 320.0}, "systolic above 300 mmHg"),
        ({"dbp": 15.0}, "diastolic below 20 mmHg"),
        ({"sbp": 150.0}, "systolic jump above 20 mmHg"),
        ({"period": 1.6}, "period change above 0.5 s"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_quality_rules_reject_the_abnormal_beat(beat, reason) -> None:
    fs = 125.0
    trace, foot = _one_abnormal(fs, **beat)
    beats = abp_beats(trace, fs, detect_pulse_onsets(trace, fs))
    near = np.abs(beats.onset - foot) <= 3
    assert near.any(), "the abnormal beat was not detected at all"
    assert beats.rejected[near].all(), reason
    far = np.abs(beats.onset - foot) > 2 * fs
    assert not beats.rejected[far].any()


def test_low_pulse_pressure_is_rejected() -> None:
    fs = 125.0
    trace, _feet = abp_train(fs, _periods(60), sbp=85.0, dbp=70.0)
    beats = abp_beats(trace, fs, detect_pulse_onsets(trace, fs))
    assert len(beats) >= 55  # small pulses are still detected (the threshold adapts)
    assert beats.rejected.all()


def test_noise_rule_rejects_steep_falls() -> None:
    fs = 125.0
    trace, feet = abp_train(fs, np.full(40, 0.8))
    noisy = trace.copy()
    beat = slice(int(feet[20]) + 20, int(feet[21]) - 5)
    noisy[beat] += np.where(np.arange(beat.stop - beat.start) % 2, 15.0, -15.0)
    beats = abp_beats(noisy, fs, detect_pulse_onsets(trace, fs))
    hit = (beats.onset <= beat.start) & (beats.end >= beat.stop)
    assert beats.rejected[hit].all()
    assert AbpQualityRules().min_mean_negative_slope == -375.0


def test_no_beat_straddles_invalid_samples() -> None:
    fs = 125.0
    trace, _feet = abp_train(fs, np.full(60, 0.8))
    trace[2000:2300] = np.nan
    onsets = detect_pulse_onsets(trace, fs)
    assert not np.any((onsets >= 2000) & (onsets < 2300))
    beats = abp_beats(trace, fs, onsets)
    assert not np.any((beats.onset < 2000) & (beats.end > 2000))
    assert np.isfinite(beats.sbp).all()


@pytest.mark.parametrize(
    "abp",
    [np.zeros(0), np.full(3000, np.nan), np.full(3000, 80.0), np.linspace(60, 90, 100)],
    ids=["empty", "all-nan", "flat", "too-short"],
)
def test_degenerate_inputs_give_no_onsets(abp) -> None:
    onsets = detect_pulse_onsets(abp, 125.0)
    assert onsets.dtype == np.int64
    assert len(onsets) == 0
    assert len(abp_beats(abp, 125.0, onsets)) == 0

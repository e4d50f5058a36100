"""Statistics from value counts equal numpy on the expanded samples."""

from __future__ import annotations

import numpy as np
import pytest

from waveshard.features.statistics import (
    PERCENTILE_COLUMNS,
    PERCENTILES,
    ValueCounts,
    summarize,
)


def numpy_reference(samples: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(np.mean(samples)),
        "std": float(np.std(samples)),
        "min": float(np.min(samples)),
        "max": float(np.max(samples)),
        **dict(zip(PERCENTILE_COLUMNS, np.percentile(samples, PERCENTILES).tolist(), strict=True)),
    }


def assert_stats_equal(ours: dict, ref: dict, scale: float) -> None:
    for key, expected in ref.items():
        assert ours[key] == pytest.approx(expected, rel=1e-9, abs=1e-12 * scale), key


def physical(digital: np.ndarray, gain: float, baseline: int) -> np.ndarray:
    """wfdb's conversion of digital samples."""
    return (digital.astype(np.float64) - baseline) / gain


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 100, 101, 1000, 12345])
@pytest.mark.parametrize(("gain", "baseline"), [(29.0, -5), (0.833333, -100), (-12.5, 3)])
def test_segment_statistics_match_numpy(n: int, gain: float, baseline: int) -> None:
    rng = np.random.default_rng(n)
    digital = rng.integers(-127, 128, size=n)
    values, counts = np.unique(digital, return_counts=True)
    vc = ValueCounts.from_digital(values, counts, gain, baseline)
    samples = physical(digital, gain, baseline)
    assert vc.n == n
    assert_stats_equal(summarize(vc), numpy_reference(samples), np.abs(samples).max())


def test_percentiles_are_bit_identical_to_numpy() -> None:
    rng = np.random.default_rng(7)
    for n in range(1, 300):
        digital = rng.integers(-20, 20, size=n)
        values, counts = np.unique(digital, return_counts=True)
        ours = summarize(ValueCounts.from_digital(values, counts, 83.0, -4))
        ref = np.percentile(physical(digital, 83.0, -4), PERCENTILES)
        assert [ours[c] for c in PERCENTILE_COLUMNS] == ref.tolist(), n


def test_merge_equals_concatenation_with_different_gains() -> None:
    rng = np.random.default_rng(3)
    parts, samples = [], []
    for gain, baseline, n in [(29.0, -33, 500), (83.0, 0, 20), (11.0, -4, 3000), (1.0, 72, 1)]:
        digital = rng.integers(-127, 128, size=n)
        values, counts = np.unique(digital, return_counts=True)
        parts.append(ValueCounts.from_digital(values, counts, gain, baseline))
        samples.append(physical(digital, gain, baseline))
    merged = ValueCounts.merge(parts)
    everything = np.concatenate(samples)
    assert merged.n == len(everything)
    assert np.all(np.diff(merged.values) > 0)
    assert_stats_equal(summarize(merged), numpy_reference(everything), np.abs(everything).max())


def test_empty_sample_gives_nan() -> None:
    empty = ValueCounts.merge([])
    assert empty.n == 0
    # the counts of no samples at all: no values, no counts, in the dtypes of any other
    assert empty.values.shape == empty.counts.shape == (0,)
    assert empty.values.dtype == np.float64 and empty.counts.dtype == np.int64
    assert all(np.isnan(v) for v in summarize(empty).values())

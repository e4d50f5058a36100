"""Exact statistics of a sample from its value counts.

A channel is carried as sorted distinct physical values with their counts
(:class:`ValueCounts`). Every statistic here equals what numpy computes on the
expanded samples: ``mean``, ``std`` (ddof 0) and ``numpy.percentile`` with the
default linear method, which is reproduced step by step so that interpolation
rounds the same way. Counts of several segments merge by concatenation, so
record-level percentiles are exact too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from waveshard.contract import PERCENTILE_COLUMNS, PERCENTILES, STAT_COLUMNS


@dataclass(frozen=True)
class ValueCounts:
    """Distinct physical values (ascending, float64) and how often each occurs."""

    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_digital(
        cls, digital: np.ndarray, counts: np.ndarray, gain: float, baseline: int
    ) -> ValueCounts:
        """Convert digital values the way wfdb does: ``(d - baseline) / gain`` in float64."""
        physical = digital.astype(np.float64)
        np.subtract(physical, baseline, out=physical)
        np.divide(physical, gain, out=physical)
        order = np.argsort(physical, kind="stable")  # a negative gain reverses the order
        return cls(physical[order], np.asarray(counts, dtype=np.int64)[order])

    @classmethod
    def merge(cls, parts: Iterable[ValueCounts]) -> ValueCounts:
        """Counts of the concatenation of several samples."""
        parts = list(parts)
        if not parts:
            return cls(np.zeros(0), np.zeros(0, dtype=np.int64))
        values = np.concatenate([p.values for p in parts])
        counts = np.concatenate([p.counts for p in parts])
        unique, inverse = np.unique(values, return_inverse=True)
        merged = np.zeros(len(unique), dtype=np.int64)
        np.add.at(merged, inverse, counts)
        return cls(unique, merged)

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def _percentiles(vc: ValueCounts, n: int) -> np.ndarray:
    """``numpy.percentile(samples, PERCENTILES)`` (method ``linear``) from counts."""
    q = np.true_divide(np.asarray(PERCENTILES, dtype=np.float64), 100)
    # numpy's virtual index for the linear method (written the way numpy computes it)
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = n - 1
    following[above] = n - 1
    gamma = virtual - np.floor(virtual)
    # The value at sorted position k is the first value whose cumulative count exceeds k.
    cumulative = np.cumsum(vc.counts)
    a = vc.values[np.searchsorted(cumulative, previous.astype(np.int64), side="right")]
    b = vc.values[np.searchsorted(cumulative, following.astype(np.int64), side="right")]
    diff = b - a
    result = a + diff * gamma
    upper = gamma >= 0.5
    result[upper] = (b - diff * (1 - gamma))[upper]
    return result


def summarize(vc: ValueCounts) -> dict[str, float]:
    """Mean, std (ddof 0), min, max and percentiles of the sample ``vc`` counts.

    Args:
        vc: Value counts of the valid samples.

    Returns:
        A dict keyed by :data:`STAT_COLUMNS`; all NaN for an empty sample.
    """
    n = vc.n
    if n == 0:
        return dict.fromkeys(STAT_COLUMNS, math.nan)
    weighted = vc.values * vc.counts
    mean = math.fsum(weighted.tolist()) / n
    deviation = vc.values - mean
    variance = math.fsum((deviation * deviation * vc.counts).tolist()) / n
    stats = {
        "mean": mean,
        "std": math.sqrt(variance),
        "min": float(vc.values[0]),
        "max": float(vc.values[-1]),
    }
    stats.update(zip(PERCENTILE_COLUMNS, _percentiles(vc, n).tolist(), strict=True))
    return stats

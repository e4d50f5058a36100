"""Per-window signal quality: valid, flat-line, clipped and out-of-range samples.

Counts, not fractions, are returned so that a window that straddles two
pieces of a record (two segments) adds up exactly; :mod:`windows` divides by
the window's length at the end.

Definitions (each a count of samples of one channel inside one window):

- ``present``: samples the record has there at all, valid or not;
- ``valid``: finite samples (not the format's invalid-sample value);
- ``flat``: samples in runs of one repeated valid value lasting at least
  ``flat_min_s`` seconds: a lead that is off, a disconnected transducer, a
  line held at one value;
- ``clipped``: valid samples at the lowest or highest value the ADC can
  represent (saturation);
- ``out_of_range``: valid samples outside the signal's physiological range.

Cost: valid and flat counts come from runs (start/stop pairs), so they cost
one comparison pass; the clipped and out-of-range masks are built only when
the channel's extremes reach a limit at all.
"""

from __future__ import annotations

import itertools

import numpy as np

from waveshard.features.clinical.filters import edges_of
from waveshard.features.clinical.spans import finite_spans

QUALITY_COUNTS = ("present", "valid", "flat", "clipped", "out_of_range")


def _runs_in(x: np.ndarray, min_length: int) -> np.ndarray:
    """Runs of one repeated finite value in ``x``, ``min_length`` or longer (exact)."""
    # NaN != NaN, so invalid samples never extend a run.
    changes = np.flatnonzero(x[1:] != x[:-1]) + 1
    starts = np.concatenate([[0], changes])
    stops = np.concatenate([changes, [len(x)]])
    long = (stops - starts) >= min_length
    runs = np.column_stack([starts[long], stops[long]])
    if len(runs):
        runs = runs[np.isfinite(x[runs[:, 0]])]
    return runs.astype(np.int64)


def constant_runs(x: np.ndarray, min_length: int) -> np.ndarray:
    """``[start, stop)`` of runs of one repeated finite value, ``min_length`` or longer.

    A run that long covers a whole stride of ``h = min_length // 2`` samples,
    so only strides whose ends are equal are checked, and only around strides
    that are constant throughout (rare in a live signal) is the exact search
    run: a pass over every ``h``-th sample instead of over all of them.
    """
    n = len(x)
    min_length = max(min_length, 2)
    if n < min_length:
        return np.empty((0, 2), dtype=np.int64)
    h = min_length // 2
    points = x[::h]
    equal = points[1:] == points[:-1]  # pair k: samples k h and (k + 1) h
    candidates = np.flatnonzero(equal)
    if not len(candidates):
        return np.empty((0, 2), dtype=np.int64)
    # A run of min_length covers a whole stride [k h, (k + 1) h]: keep the
    # candidate pairs whose stride is constant throughout (a gather of those
    # strides only, which are few in a live signal).
    strides = candidates[(candidates + 1) * h < n]
    rows = x[strides[:, None] * h + np.arange(h + 1)]
    equal = np.zeros(len(equal), dtype=bool)
    equal[strides[(rows == rows[:, :1]).all(axis=1)]] = True
    if not equal.any():
        return np.empty((0, 2), dtype=np.int64)
    # Widen each constant stride by one stride on both sides: a run through it
    # starts and ends within one stride of its first and last constant stride.
    near = equal.copy()
    near[1:] |= equal[:-1]
    near[:-1] |= equal[1:]
    found = []
    for first, last in edges_of(near):
        lo, hi = first * h, min((last + 1) * h + 1, n)
        runs = _runs_in(x[lo:hi], min_length)
        if len(runs):
            found.append(runs + lo)
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)


def samples_per_window(runs: np.ndarray, bounds: np.ndarray, n: int) -> np.ndarray:
    """How many samples of the ``[start, stop)`` runs fall in each window.

    Args:
        runs: Disjoint runs in ascending order.
        bounds: First sample of each window (the last window ends at ``n``).
        n: Number of samples.
    """
    if not len(runs):
        return np.zeros(len(bounds), dtype=np.int64)
    covered = np.concatenate([[0], np.cumsum(runs[:, 1] - runs[:, 0])])

    def before(t: np.ndarray) -> np.ndarray:
        """Run samples before position t."""
        k = np.searchsorted(runs[:, 1], t, side="right")  # runs that end at or before t
        partial = np.zeros(len(t), dtype=np.int64)
        inside = k < len(runs)
        start = runs[np.minimum(k, len(runs) - 1), 0]
        partial[inside] = np.maximum(t[inside] - start[inside], 0)
        return covered[k] + partial

    edges = np.append(bounds, n)
    return np.diff(before(edges))


def _count_per_window(mask: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    edges = np.append(bounds, len(mask)).tolist()
    return np.array(
        [np.count_nonzero(mask[a:b]) for a, b in itertools.pairwise(edges)],
        dtype=np.int64,
    )


def window_quality_counts(
    x: np.ndarray,
    bounds: np.ndarray,
    fs: float,
    *,
    adc_range: tuple[float, float] | None,
    physiological_range: tuple[float, float] | None,
    flat_min_s: float,
    spans: np.ndarray | None = None,
) -> np.ndarray:
    """Quality counts of one channel for consecutive windows.

    Args:
        x: Physical samples, NaN = invalid.
        bounds: Index of the first sample of each window in ``x``, strictly
            increasing, starting at 0; the last window runs to the end of ``x``.
        fs: Sampling frequency in Hz.
        adc_range: Physical values of the lowest and highest valid digital
            value, or None when unknown (then nothing counts as clipped).
        physiological_range: Plausible physical range, or None (nothing is
            out of range).
        flat_min_s: Shortest run of one repeated value that counts as flat.
        spans: Runs of valid samples, when already known.

    Returns:
        An ``(len(bounds), 5)`` int64 array in :data:`QUALITY_COUNTS` order.
    """
    n = len(x)
    counts = np.zeros((len(bounds), len(QUALITY_COUNTS)), dtype=np.int64)
    if n == 0 or len(bounds) == 0:
        return counts
    spans = finite_spans(x) if spans is None else spans
    counts[:, 0] = np.diff(np.append(bounds, n))
    counts[:, 1] = samples_per_window(spans, bounds, n)
    if not len(spans):
        return counts
    flat = constant_runs(x, max(2, round(flat_min_s * fs)))
    counts[:, 2] = samples_per_window(flat, bounds, n)
    # fmin/fmax skip NaN: one fast pass tells whether any limit is reached.
    low_seen, high_seen = np.fmin.reduce(x), np.fmax.reduce(x)
    with np.errstate(invalid="ignore"):
        if adc_range is not None:
            low, high = adc_range
            tolerance = 1e-9 * max(abs(high - low), 1.0)
            if low_seen <= low + tolerance or high_seen >= high - tolerance:
                mask = (x <= low + tolerance) | (x >= high - tolerance)
                counts[:, 3] = _count_per_window(mask, bounds)
        if physiological_range is not None:
            low, high = physiological_range
            if low_seen < low or high_seen > high:
                counts[:, 4] = _count_per_window((x < low) | (x > high), bounds)
    return counts

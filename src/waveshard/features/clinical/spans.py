"""Runs of valid samples: every detector works on stretches without NaN.

Invalid samples (NaN) split a signal into spans that are analysed on their own:
filters would smear a NaN over the whole signal, and an interval between two
events is only meaningful when nothing is missing between them.
"""

from __future__ import annotations

import numpy as np


def finite_spans(x: np.ndarray, min_length: int = 1) -> np.ndarray:
    """Start and stop indices of the runs of finite values in ``x``.

    Args:
        x: A 1-D float array; NaN and infinities mark invalid samples.
        min_length: Runs shorter than this many samples are left out.

    Returns:
        An ``(n, 2)`` int64 array of ``[start, stop)`` pairs, in order.
    """
    valid = np.isfinite(x)
    if valid.all():
        spans = np.array([[0, len(x)]], dtype=np.int64) if len(x) else np.empty((0, 2), np.int64)
    else:
        change = np.flatnonzero(valid[1:] != valid[:-1]) + 1
        bounds = np.concatenate([[0], change, [len(x)]])
        runs = np.column_stack([bounds[:-1], bounds[1:]])
        spans = runs[0 if valid[0] else 1 :: 2].astype(np.int64)
    if min_length > 1 and len(spans):
        spans = spans[(spans[:, 1] - spans[:, 0]) >= min_length]
    return spans


def same_span(events: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Whether each pair of consecutive events lies in one span.

    Args:
        events: Sorted sample indices of events (beats, breaths).
        spans: ``[start, stop)`` pairs from :func:`finite_spans`.

    Returns:
        A boolean array of ``len(events) - 1`` entries: entry ``i`` is True when
        events ``i`` and ``i + 1`` belong to the same span, so the interval
        between them has no invalid sample.
    """
    if len(events) < 2:
        return np.zeros(0, dtype=bool)
    which = np.searchsorted(spans[:, 0], events, side="right") - 1
    return which[1:] == which[:-1]

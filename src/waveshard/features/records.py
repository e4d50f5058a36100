"""Record-level features merged exactly from a record's segments."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from waveshard.contract import RECORD_FEATURES, RECORD_KEYS
from waveshard.features.statistics import ValueCounts, summarize

#: Columns that describe the record rather than the signal: the same for every
#: segment of a record, carried over to its rows where the segments have them.
RECORD_LEVEL = ("record_dir", "record_start", "record_duration_s")


def merge_records(segments: pd.DataFrame, counts: Sequence[ValueCounts]) -> pd.DataFrame:
    """One row per record × kind × normalized signal × units.

    Percentiles, mean and std are computed over all of the record's samples of
    that signal: the segments' value counts are concatenated, so the result is
    what numpy gives on the concatenated physical samples. Units are part of the
    key so that samples in different units are never mixed. ``duration_s`` is
    the sum of the durations of the segments that hold the signal, so two
    signals of one record differ where one is absent from some segments;
    :data:`RECORD_LEVEL` columns (where the segments have them) describe the
    whole record.

    Args:
        segments: Segment rows (as in ``segment_features``), positionally aligned
            with ``counts``.
        counts: Value counts of each row's valid samples.

    Returns:
        The record features table.
    """
    if len(segments) != len(counts):
        raise ValueError(f"{len(segments)} segment rows but {len(counts)} value counts")
    rows = []
    keyed = segments.reset_index(drop=True)
    for key, part in keyed.groupby(list(RECORD_KEYS), sort=True, dropna=False):
        merged = ValueCounts.merge(counts[i] for i in part.index)
        n_samples = int(part["n_samples"].sum())
        fs = part["fs"].unique()
        first = part.iloc[0]
        rows.append(
            {
                **dict(zip(RECORD_KEYS, key, strict=True)),
                **{c: first[c] for c in RECORD_LEVEL if c in part},
                "fs": float(fs[0]) if len(fs) == 1 else np.nan,
                "n_segments": int(part["segment"].nunique()),
                "duration_s": float(part["duration_s"].sum()),
                "n_samples": n_samples,
                "n_valid": merged.n,
                "missing_fraction": 1 - merged.n / n_samples if n_samples else np.nan,
                **summarize(merged),
            }
        )
    return RECORD_FEATURES.frame(rows)

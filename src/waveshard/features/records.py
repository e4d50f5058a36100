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
    keyed = segments.reset_index(drop=True)
    # Plain arrays and index groups: pandas indexing per record costs milliseconds,
    # and a group holds tens of thousands of record × signal keys.
    n_samples = keyed["n_samples"].to_numpy(dtype=np.int64)
    fs = keyed["fs"].to_numpy(dtype=np.float64)
    duration = keyed["duration_s"].to_numpy(dtype=np.float64)
    segment = keyed["segment"].to_numpy(dtype=object)
    level = {c: keyed[c].to_numpy() for c in RECORD_LEVEL if c in keyed}
    rows = []
    groups = keyed.groupby(list(RECORD_KEYS), sort=True, dropna=False).indices
    for key, index in groups.items():
        merged = ValueCounts.merge(counts[i] for i in index)
        total = int(n_samples[index].sum())
        rates = np.unique(fs[index])
        rows.append(
            {
                **dict(zip(RECORD_KEYS, key, strict=True)),
                **{c: values[index[0]] for c, values in level.items()},
                "fs": float(rates[0]) if len(rates) == 1 else np.nan,
                "n_segments": len(set(segment[index])),
                "duration_s": float(duration[index].sum()),
                "n_samples": total,
                "n_valid": merged.n,
                "missing_fraction": 1 - merged.n / total if total else np.nan,
                **summarize(merged),
            }
        )
    return RECORD_FEATURES.frame(rows)

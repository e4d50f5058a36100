"""Column contracts of the published tables (later steps and users rely on them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from waveshard.features.records import RECORD_KEYS
from waveshard.features.statistics import STAT_COLUMNS

SEGMENT_INDEX_COLUMNS = (
    "group", "record", "segment", "kind", "header_path", "header_text",
    "dat_paths", "dat_bytes", "n_signals", "sig_len", "fs",
)  # fmt: skip
SEGMENT_FEATURE_COLUMNS = (
    "group", "record", "segment", "kind", "channel", "signal_raw", "signal", "units", "fs",
    "n_samples", "n_valid", "missing_fraction", "duration_s", *STAT_COLUMNS,
    "fmt", "adc_gain", "baseline", "checksum_ok",
)  # fmt: skip
RECORD_FEATURE_COLUMNS = (
    *RECORD_KEYS, "fs", "n_segments", "duration_s", "n_samples", "n_valid",
    "missing_fraction", *STAT_COLUMNS,
)  # fmt: skip
ERROR_COLUMNS = ("group", "record", "segment", "path", "error_type", "message")
SIGNAL_STATS_COLUMNS = (
    "kind", "signal", "records", "groups", "segments", "total_hours", "valid_fraction",
)  # fmt: skip


def frame(rows: Iterable[dict], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns``, also when there are no rows."""
    return pd.DataFrame(list(rows), columns=list(columns))


def concat(parts: Iterable[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Concatenate tables of one contract, dropping empty ones (keeps dtypes stable)."""
    non_empty = [p for p in parts if len(p)]
    if not non_empty:
        return frame([], columns)
    return pd.concat(non_empty, ignore_index=True)[list(columns)]

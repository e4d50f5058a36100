"""Nodes of the combine pipeline, which runs once after every group."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from waveshard.contract import (
    EXTRACTION_ERRORS,
    RECORD_FEATURES,
    RECORD_KEYS,
    SEGMENT_FEATURES,
    SIGNAL_STATS,
)

logger = logging.getLogger(__name__)


#: Row order of the combined tables (a stable sort by these columns): it does not depend
#: on the order the groups ran in, nor on how a group was split into jobs that each
#: wrote a part (every row of one record comes from one part, in the group's order).
SEGMENT_ORDER = ["group", "record", "segment", "channel"]
ERROR_ORDER = ["group", "record", "segment"]


def combine_segment_features(*parts: pd.DataFrame) -> pd.DataFrame:
    """Concatenate the groups' segment features (or their parts), in record order."""
    return _ordered(SEGMENT_FEATURES.concat(parts), SEGMENT_ORDER)


def combine_record_features(*parts: pd.DataFrame) -> pd.DataFrame:
    """Concatenate the groups' record features (or their parts), in record order."""
    return _ordered(RECORD_FEATURES.concat(parts), list(RECORD_KEYS))


def combine_errors(*parts: pd.DataFrame) -> pd.DataFrame:
    """Concatenate the groups' error tables (or their parts), in record order.

    Within a segment the group's own order stays: discovery problems first.
    """
    return _ordered(EXTRACTION_ERRORS.concat(parts), ERROR_ORDER)


def _ordered(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return table.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def csv_copy(table: pd.DataFrame) -> pd.DataFrame:
    """The same table, for its human-readable CSV copy.

    CSV holds no dtypes (an empty table reads back as all ``object``); the
    Parquet file of the same name is the typed one, and
    ``waveshard.contract.<TABLE>.read_csv`` reads a CSV copy with its dtypes.
    """
    return table


def signal_statistics(record_features: pd.DataFrame) -> pd.DataFrame:
    """Per normalized signal (and kind): records, groups, segments, hours, valid fraction.

    Args:
        record_features: The combined record features.

    Returns:
        One row per kind × signal, most hours first.
    """
    if record_features.empty:
        return SIGNAL_STATS.frame()
    table = record_features.assign(
        record_key=record_features["group"] + "/" + record_features["record"]
    )
    stats = table.groupby(["kind", "signal"], sort=True).agg(
        records=("record_key", "nunique"),
        groups=("group", "nunique"),
        segments=("n_segments", "sum"),
        duration_s=("duration_s", "sum"),
        n_valid=("n_valid", "sum"),
        n_samples=("n_samples", "sum"),
    )
    stats["total_hours"] = stats["duration_s"] / 3600
    stats["valid_fraction"] = stats["n_valid"] / stats["n_samples"].where(stats["n_samples"] > 0)
    stats = stats.reset_index().sort_values(["total_hours", "signal"], ascending=[False, True])
    return SIGNAL_STATS.conform(stats)


def summarize_run(*summaries: dict[str, Any]) -> dict[str, Any]:
    """Totals over all groups, logged and returned with the per-group summaries."""
    keys = ("records", "segments", "segments_ok", "segments_failed", "problems", "dat_bytes")
    totals = {key: sum(int(s[key]) for s in summaries) for key in keys}
    totals["seconds"] = round(sum(float(s["seconds"]) for s in summaries), 3)
    missing = [s["group"] for s in summaries if not s["folder_exists"]]
    logger.info(
        "All groups: %d records, %d segments ok, %d failed, %d problems, %.1f MB in %.1f s%s.",
        totals["records"],
        totals["segments_ok"],
        totals["segments_failed"],
        totals["problems"],
        totals["dat_bytes"] / 1e6,
        totals["seconds"],
        f"; missing group folders: {', '.join(missing)}" if missing else "",
    )
    return {"totals": totals, "missing_groups": missing, "groups": list(summaries)}

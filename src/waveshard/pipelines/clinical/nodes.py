"""Nodes of the ``clinical`` pipeline: discover_records → plan_record_shards → compute_windows.

Per group, every record's segments are read one at a time as physical arrays,
placed on the record's timeline and reduced to per-window clinical features;
the combine nodes then join all groups. Like the profile's nodes they see a
group folder and tables, never where they run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from waveshard.contract import EXTRACTION_ERRORS, Problem, window_features_table
from waveshard.extraction.clinical_records import RecordPlan, clinical_record, plan_records
from waveshard.extraction.parallel import plan_work, run_shards
from waveshard.extraction.progress import ProgressLog
from waveshard.features.clinical import ClinicalSettings
from waveshard.features.names import SignalNameMap
from waveshard.wfdb_io.discovery import discover_segments
from waveshard.wfdb_io.storage import GroupFolder

logger = logging.getLogger(__name__)


@dataclass
class RecordDiscovery:
    """A group's records placed on their timelines, and what discovery reported."""

    group: str
    records: list[RecordPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def discover_records(raw_records: GroupFolder) -> RecordDiscovery:
    """Find every record of the group and place its segments in time.

    Args:
        raw_records: The listed group folder.

    Returns:
        One plan per record (segments with their offsets, numerics, start time)
        and the problems discovery and placement found.
    """
    if not raw_records.exists or not raw_records.files:
        state = "does not exist" if not raw_records.exists else "is empty"
        logger.warning(
            "Group %s: folder %s %s; its clinical outputs will be empty.",
            raw_records.group,
            raw_records.root,
            state,
        )
    found = discover_segments(raw_records)
    plans, placement = plan_records(raw_records, found.tasks, found.masters)
    logger.info(
        "Group %s: %d records for clinical features (%.1f MB), %d problems.",
        raw_records.group,
        len(plans),
        sum(p.dat_bytes for p in plans) / 1e6,
        len(found.problems) + len(placement),
    )
    return RecordDiscovery(raw_records.group, plans, [*found.problems, *placement])


def plan_record_shards(
    clinical_records: RecordDiscovery,
    n_workers: int | None,
    shards_per_worker: int,
    parallel_min_mb: float = 0.0,
) -> dict[str, Any]:
    """Plan shards of whole records balanced by ``.dat`` bytes (LPT).

    Records, not segments, are the unit: a window may straddle two segments
    of one record, so a record's segments are reduced in one worker, in order.

    Args:
        clinical_records: Output of :func:`discover_records`.
        n_workers: Worker processes; ``None`` means ``joblib.cpu_count()``.
        shards_per_worker: Shards per worker.
        parallel_min_mb: Groups with less ``.dat`` than this run in one process.

    Returns:
        ``{"workers": int, "shards": [[record position, ...], ...]}``.
    """
    sizes = [p.dat_bytes for p in clinical_records.records]
    return plan_work(sizes, n_workers, shards_per_worker, parallel_min_mb)


def compute_windows(  # noqa: PLR0917 (Kedro passes node inputs by position)
    raw_records: GroupFolder,
    clinical_records: RecordDiscovery,
    clinical_shard_plan: dict[str, Any],
    clinical: dict[str, Any],
    signal_names: dict,
    progress_interval_s: float,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Window features of every record of the group, the shards in parallel (joblib).

    Args:
        raw_records: The group folder.
        clinical_records: Output of :func:`discover_records`.
        clinical_shard_plan: Output of :func:`plan_record_shards`.
        clinical: The clinical settings (``params:clinical``).
        signal_names: Canonical name → spellings (``params:signal_names``).
        progress_interval_s: Least seconds between two progress lines.

    Returns:
        The group's ``window_features``, its error rows (discovery and
        placement problems, then segments that could not be read or analysed;
        the ``extraction_errors`` columns) and its summary.
    """
    settings = ClinicalSettings.from_params(clinical)
    plans = clinical_records.records
    progress = ProgressLog(
        f"Group {raw_records.group} (clinical)",
        (p.record for p in plans),
        sum(p.dat_bytes for p in plans),
        progress_interval_s,
        logger,
    )
    work = partial(clinical_record, settings=settings, names=SignalNameMap(signal_names))
    outcomes = run_shards(
        work,
        raw_records,
        plans,
        clinical_shard_plan["shards"],
        n_workers=clinical_shard_plan["workers"],
        progress=progress,
    )
    schema = window_features_table(settings.monitor_numerics)
    tables = [table for outcome in outcomes for table in outcome.payload]
    windows = schema.concat(tables)
    problems = [p.row() for p in clinical_records.problems]
    problems += [p.row() for outcome in outcomes for p in outcome.problems]
    errors = EXTRACTION_ERRORS.frame(problems)
    summary = {
        "group": raw_records.group,
        "folder_exists": raw_records.exists,
        "records": len(plans),
        "records_with_errors": sum(o.failed for o in outcomes),
        "windows": len(windows),
        "problems": len(errors),
        "dat_bytes": progress.total_bytes,
        "seconds": round(progress.elapsed, 3),
        "workers": clinical_shard_plan["workers"],
        "shards": len(clinical_shard_plan["shards"]),
    }
    logger.info(
        "Group %s clinical done: %d records, %d windows, %d problems, %.1f MB in %.1f s "
        "(%.1f MB/s).",
        raw_records.group,
        len(plans),
        len(windows),
        len(errors),
        summary["dat_bytes"] / 1e6,
        summary["seconds"],
        summary["dat_bytes"] / 1e6 / max(summary["seconds"], 1e-9),
    )
    return windows, errors, summary


def combine_window_features(clinical: dict[str, Any], *parts: pd.DataFrame) -> pd.DataFrame:
    """Concatenate the groups' window features (the schema follows ``clinical``)."""
    settings = ClinicalSettings.from_params(clinical)
    return window_features_table(settings.monitor_numerics).concat(parts)


def combine_clinical_errors(*parts: pd.DataFrame) -> pd.DataFrame:
    """Concatenate the groups' clinical error tables."""
    return EXTRACTION_ERRORS.concat(parts)


def summarize_clinical_run(*summaries: dict[str, Any]) -> dict[str, Any]:
    """Totals of the clinical pipeline over all groups, with the per-group summaries."""
    keys = ("records", "records_with_errors", "windows", "problems", "dat_bytes")
    totals = {key: sum(int(s[key]) for s in summaries) for key in keys}
    totals["seconds"] = round(sum(float(s["seconds"]) for s in summaries), 3)
    missing = [s["group"] for s in summaries if not s["folder_exists"]]
    logger.info(
        "All groups (clinical): %d records, %d windows, %d problems, %.1f MB in %.1f s%s.",
        totals["records"],
        totals["windows"],
        totals["problems"],
        totals["dat_bytes"] / 1e6,
        totals["seconds"],
        f"; missing group folders: {', '.join(missing)}" if missing else "",
    )
    return {"totals": totals, "missing_groups": missing, "groups": list(summaries)}

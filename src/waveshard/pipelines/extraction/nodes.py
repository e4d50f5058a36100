"""Nodes of the per-group extraction pipeline.

They see a group folder and tables, never where they run: a laptop, a local
job or a SageMaker job all call them the same way.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from waveshard.extraction.parallel import resolve_workers, run_shards
from waveshard.extraction.progress import ProgressLog
from waveshard.extraction.sharding import plan_shards
from waveshard.features.names import SignalNameMap
from waveshard.features.records import merge_records
from waveshard.features.statistics import ValueCounts
from waveshard.schema import (
    ERROR_COLUMNS,
    SEGMENT_FEATURE_COLUMNS,
    SEGMENT_INDEX_COLUMNS,
    concat,
    frame,
)
from waveshard.wfdb_io.discovery import SegmentTask, discover_segments
from waveshard.wfdb_io.headers import parse_header
from waveshard.wfdb_io.storage import GroupFolder

logger = logging.getLogger(__name__)


def flatten_group(raw_records: GroupFolder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Find every segment of the group by parsing its headers.

    Args:
        raw_records: The listed group folder.

    Returns:
        The segment index (one row per segment, header text included) and the
        discovery problems (unparsable headers, absent segments, bad data files).
    """
    if not raw_records.exists or not raw_records.files:
        state = "does not exist" if not raw_records.exists else "is empty"
        logger.warning(
            "Group %s: folder %s %s; its outputs will be empty.",
            raw_records.group,
            raw_records.root,
            state,
        )
    inventory = discover_segments(raw_records)
    if inventory.ignored_files:
        logger.info(
            "Group %s: passed over %d non-WFDB files (e.g. %s).",
            raw_records.group,
            len(inventory.ignored_files),
            ", ".join(inventory.ignored_files[:3]),
        )
    index = frame(
        (
            {
                "group": t.group,
                "record": t.record,
                "segment": t.segment,
                "kind": t.kind,
                "header_path": t.header_path,
                "header_text": t.header_text,
                "dat_paths": list(t.dat_paths),
                "dat_bytes": t.dat_bytes,
                "n_signals": t.header.n_sig,
                "sig_len": t.header.sig_len,
                "fs": t.header.fs,
            }
            for t in inventory.tasks
        ),
        SEGMENT_INDEX_COLUMNS,
    )
    problems = frame((vars(p) for p in inventory.problems), ERROR_COLUMNS)
    logger.info(
        "Group %s: %d headers, %d records, %d segments to extract (%.1f MB), %d problems.",
        raw_records.group,
        inventory.headers,
        len(inventory.records),
        len(index),
        index["dat_bytes"].sum() / 1e6 if len(index) else 0.0,
        len(problems),
    )
    return index, problems


def chunk_segments(
    segment_index: pd.DataFrame,
    n_workers: int | None,
    shards_per_worker: int,
    parallel_min_mb: float = 0.0,
) -> dict[str, Any]:
    """Plan byte-balanced micro-shards (LPT) for the group's segments.

    Args:
        segment_index: Output of :func:`flatten_group`.
        n_workers: Worker processes; ``None`` means ``joblib.cpu_count()``.
        shards_per_worker: Shards per worker; more than one lets progress be
            reported and lets fast workers take over the tail.
        parallel_min_mb: Groups with less ``.dat`` than this run in one process,
            where starting workers would cost more than it saves.

    Returns:
        ``{"workers": int, "shards": [[segment position, ...], ...]}``, heaviest
        shard first.
    """
    workers = resolve_workers(n_workers)
    if segment_index["dat_bytes"].sum() < parallel_min_mb * 1e6:
        workers = 1
    if shards_per_worker < 1:
        raise ValueError(f"shards_per_worker must be at least 1, got {shards_per_worker}")
    sizes = segment_index["dat_bytes"].astype(int).tolist()
    shards = plan_shards(sizes, workers * shards_per_worker) if sizes else []
    return {"workers": workers, "shards": shards}


def _tasks(segment_index: pd.DataFrame) -> list[SegmentTask]:
    return [
        SegmentTask(
            row.group,
            row.record,
            row.segment,
            row.kind,
            row.header_path,
            parse_header(row.header_text),
            tuple(row.dat_paths),
            int(row.dat_bytes),
            row.header_text,
        )
        for row in segment_index.itertuples(index=False)
    ]


def extract_segments(  # noqa: PLR0917 - Kedro passes a node's inputs by position
    raw_records: GroupFolder,
    segment_index: pd.DataFrame,
    shard_plan: dict[str, Any],
    discovery_problems: pd.DataFrame,
    progress_interval_s: float,
    read_ahead_mb: float = 0.0,
) -> tuple[pd.DataFrame, list[ValueCounts], pd.DataFrame, dict[str, Any]]:
    """Extract every segment in parallel (joblib over the micro-shards).

    Args:
        raw_records: The group folder.
        segment_index: Output of :func:`flatten_group`.
        shard_plan: Output of :func:`chunk_segments`.
        discovery_problems: Problems found while flattening.
        progress_interval_s: Least seconds between two progress lines.
        read_ahead_mb: On object stores, MB of data files each worker reads ahead
            of the segment it is counting (0: one read at a time).

    Returns:
        Segment rows (raw signal names), their value counts (aligned by
        position), the group's error table (discovery and extraction problems)
        and a summary (segments ok / failed, bytes, seconds).
    """
    tasks = _tasks(segment_index)
    progress = ProgressLog(
        f"Group {raw_records.group}",
        (t.record for t in tasks),
        sum(t.dat_bytes for t in tasks),
        progress_interval_s,
        logger,
    )
    outcomes = run_shards(
        raw_records,
        tasks,
        shard_plan["shards"],
        shard_plan["workers"],
        progress,
        read_ahead_bytes=int(read_ahead_mb * 1e6),
    )
    rows, counts, failures = [], [], []
    for outcome in outcomes:
        if outcome.problem is not None:
            failures.append(vars(outcome.problem))
        rows.extend(outcome.rows)
        counts.extend(outcome.counts)
    errors = concat([discovery_problems, frame(failures, ERROR_COLUMNS)], ERROR_COLUMNS)
    seconds = progress.elapsed
    summary = {
        "group": raw_records.group,
        "folder_exists": raw_records.exists,
        "records": int(segment_index["record"].nunique()),
        "segments": len(tasks),
        "segments_ok": len(tasks) - len(failures),
        "segments_failed": len(failures),
        "problems": len(errors),
        "dat_bytes": progress.total_bytes,
        "seconds": round(seconds, 3),
        "workers": shard_plan["workers"],
        "shards": len(shard_plan["shards"]),
    }
    logger.info(
        "Group %s done: %d segments ok, %d failed, %d problems, %.1f MB in %.1f s (%.1f MB/s).",
        raw_records.group,
        summary["segments_ok"],
        summary["segments_failed"],
        summary["problems"],
        progress.total_bytes / 1e6,
        seconds,
        progress.total_bytes / 1e6 / max(seconds, 1e-9),
    )
    segment_rows = frame(rows, [c for c in SEGMENT_FEATURE_COLUMNS if c != "signal"])
    return segment_rows, counts, errors, summary


def summarize_records(
    segment_rows: pd.DataFrame, value_counts: list[ValueCounts], signal_names: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalize signal names and merge each record's segments exactly.

    Args:
        segment_rows: Segment rows from :func:`extract_segments`.
        value_counts: Their value counts, aligned by position.
        signal_names: Canonical name → spellings (``params:signal_names``).

    Returns:
        ``segment_features`` (with the ``signal`` column) and ``record_features``.
    """
    normalize = SignalNameMap(signal_names)
    segments = segment_rows.copy()
    segments["signal"] = [normalize(name) for name in segments["signal_raw"]]
    segments = segments[list(SEGMENT_FEATURE_COLUMNS)]
    return segments, merge_records(segments, value_counts)

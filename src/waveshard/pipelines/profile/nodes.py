"""Nodes of the per-group profile pipeline: discover → plan_shards → extract → summarize → report.

No per-segment input raises out of a node: each segment's steps run behind the
isolation boundary (:mod:`waveshard.isolation`), and a failure becomes that
segment's error row.

They see a group folder and tables, never where they run: a laptop, a local
job or a SageMaker job all call them the same way.
"""

from __future__ import annotations

import logging
import posixpath
from typing import Any

import pandas as pd

from waveshard.contract import (
    ERROR,
    EXTRACTION_ERRORS,
    RECORD_FEATURES,
    SEGMENT_FEATURES,
    SEGMENT_INDEX,
    WARNING,
    Problem,
)
from waveshard.extraction.boundary import SegmentOutcome
from waveshard.extraction.parallel import plan_work, run_shards
from waveshard.extraction.profile import profile_segment
from waveshard.extraction.progress import ProgressLog
from waveshard.features.names import SignalNameMap
from waveshard.features.records import merge_records
from waveshard.features.statistics import ValueCounts
from waveshard.isolation import Where, isolate
from waveshard.wfdb_io.discovery import Discovery, discover_segments
from waveshard.wfdb_io.storage import GroupFolder
from waveshard.wfdb_io.timeline import segment_times

logger = logging.getLogger(__name__)

#: Where a segment is and when it starts: from the segment index, joined by ``summarize``.
_PLACE_COLUMNS = ["record_dir", "record_start", "segment_start", "record_duration_s"]
_SEGMENT_KEY = ["group", "record", "segment"]
#: Columns of the segment rows ``extract`` gives (``summarize`` adds the signal and place).
_SEGMENT_ROW_COLUMNS = [
    c for c in SEGMENT_FEATURES.columns if c != "signal" and c not in _PLACE_COLUMNS
]


def discover(raw_records: GroupFolder) -> tuple[Discovery, pd.DataFrame]:
    """Find every segment of the group by parsing each of its headers once.

    Args:
        raw_records: The listed group folder.

    Returns:
        The discovery (segments with their parsed headers, problems found, counts),
        which later nodes use as it is, and the segment index table (one row per
        segment).
    """
    if not raw_records.exists or not raw_records.files:
        state = "does not exist" if not raw_records.exists else "is empty"
        logger.warning(
            "Group %s: folder %s %s; its outputs will be empty.",
            raw_records.group,
            raw_records.root,
            state,
        )
    found = discover_segments(raw_records)
    if found.ignored_files:
        logger.info(
            "Group %s: passed over %d non-WFDB files (e.g. %s).",
            raw_records.group,
            len(found.ignored_files),
            ", ".join(found.ignored_files[:3]),
        )
    times = segment_times(found.tasks, found.masters)
    index = SEGMENT_INDEX.frame(
        {
            "group": t.group,
            "record": t.record,
            "record_dir": posixpath.dirname(t.header_path),
            "segment": t.segment,
            "kind": t.kind,
            "record_start": time.record_start,
            "record_duration_s": time.record_duration_s,
            "segment_start": time.segment_start,
            "header_path": t.header_path,
            "dat_paths": list(t.dat_paths),
            "dat_bytes": t.dat_bytes,
            "n_signals": t.header.n_sig,
            "sig_len": t.sig_len,
            "fs": t.header.fs,
        }
        for t, time in zip(found.tasks, times, strict=True)
    )
    logger.info(
        "Group %s: %d headers, %d records, %d segments to extract (%.1f MB), %d problems.",
        raw_records.group,
        found.headers,
        len(found.records),
        len(found.tasks),
        sum(t.dat_bytes for t in found.tasks) / 1e6,
        len(found.problems),
    )
    return found, index


def plan_shards(
    discovery: Discovery,
    n_workers: int | None,
    shards_per_worker: int,
    parallel_min_mb: float = 0.0,
) -> dict[str, Any]:
    """Plan shards of the group's segments balanced by ``.dat`` bytes (LPT).

    Args:
        discovery: Output of :func:`discover`.
        n_workers: Worker processes; ``None`` means ``joblib.cpu_count()``.
        shards_per_worker: Shards per worker; more than one lets progress be
            reported and lets fast workers take over the tail.
        parallel_min_mb: Groups with less ``.dat`` than this run in one process,
            where starting workers would cost more than it saves.

    Returns:
        ``{"workers": int, "shards": [[segment position, ...], ...]}``, heaviest
        shard first.
    """
    sizes = [t.dat_bytes for t in discovery.tasks]
    return plan_work(sizes, n_workers, shards_per_worker, parallel_min_mb)


def extract(
    raw_records: GroupFolder,
    discovery: Discovery,
    shard_plan: dict[str, Any],
    progress_interval_s: float,
    read_ahead_mb: float = 0.0,
) -> tuple[pd.DataFrame, list[ValueCounts], pd.DataFrame, dict[str, Any]]:
    """Profile every segment, the shards in parallel (joblib).

    Args:
        raw_records: The group folder.
        discovery: Output of :func:`discover`.
        shard_plan: Output of :func:`plan_shards`.
        progress_interval_s: Least seconds between two progress lines.
        read_ahead_mb: On object stores, MB of data files each worker reads ahead
            of the segment it is counting (0: one read at a time).

    Returns:
        Segment rows (raw signal names), their value counts (aligned by
        position), the problems met while reading segments, and the extraction's
        figures (segments ok / failed, bytes, seconds, workers, shards).
    """
    tasks = discovery.tasks
    progress = ProgressLog(
        f"Group {raw_records.group}",
        (t.record for t in tasks),
        sum(t.dat_bytes for t in tasks),
        progress_interval_s,
        logger,
    )
    outcomes = run_shards(
        profile_segment,
        raw_records,
        tasks,
        shard_plan["shards"],
        n_workers=shard_plan["workers"],
        progress=progress,
        read_ahead_bytes=int(read_ahead_mb * 1e6),
    )
    table, outcomes = _tabulate(outcomes, discovery)
    counts, problems = [], []
    for outcome in outcomes:
        problems.extend(p.row() for p in outcome.problems)
        counts.extend(outcome.payload)
    failed = sum(o.failed for o in outcomes)
    seconds = progress.elapsed
    figures = {
        "segments": len(tasks),
        "segments_ok": len(tasks) - failed,
        "segments_failed": failed,
        "dat_bytes": progress.total_bytes,
        "seconds": round(seconds, 3),
        "workers": shard_plan["workers"],
        "shards": len(shard_plan["shards"]),
    }
    return table[_SEGMENT_ROW_COLUMNS], counts, EXTRACTION_ERRORS.frame(problems), figures


def _tabulate(
    outcomes: list[SegmentOutcome], discovery: Discovery
) -> tuple[pd.DataFrame, list[SegmentOutcome]]:
    """The segment rows of ``outcomes`` as a table, and the outcomes as tabulated.

    The whole group is tabulated at once; only if that fails is each segment
    tabulated on its own, and a segment whose rows do not fit the table's schema
    becomes an error row: one segment's odd value costs that segment only.
    """
    every_row = [row for o in outcomes for row in o.rows]
    table = isolate(lambda: SEGMENT_FEATURES.frame(every_row), _WHOLE_GROUP)
    if not isinstance(table, Problem):
        return table, outcomes
    checked = []
    for outcome in outcomes:
        task = discovery.tasks[outcome.task_index]
        where = Where(task.group, task.record, task.segment, discovery.header_url(task))
        fits = isolate(lambda o=outcome: SEGMENT_FEATURES.frame(o.rows), where, "tabulating")
        if isinstance(fits, Problem):
            checked.append(
                SegmentOutcome(
                    outcome.task_index, outcome.record, outcome.dat_bytes, problems=(fits,)
                )
            )
        else:
            checked.append(outcome)
    return SEGMENT_FEATURES.frame(row for o in checked for row in o.rows), checked


def report_group(
    raw_records: GroupFolder,
    discovery: Discovery,
    segment_problems: pd.DataFrame,
    record_problems: pd.DataFrame,
    extraction_figures: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The group's error table and summary.

    Args:
        raw_records: The group folder.
        discovery: Output of :func:`discover` (its problems come first).
        segment_problems: Problems met while reading segments (from :func:`extract`).
        record_problems: Segments whose record could not be merged (from
            :func:`summarize_records`); they count as failed.
        extraction_figures: The extraction's figures (from :func:`extract`).

    Returns:
        ``extraction_errors`` of the group (discovery problems, then segment
        problems, then record problems) and its summary.
    """
    errors = EXTRACTION_ERRORS.concat(
        [
            EXTRACTION_ERRORS.frame(p.row() for p in discovery.problems),
            segment_problems,
            record_problems,
        ]
    )
    merge_failed = int(record_problems["segment"].nunique()) if len(record_problems) else 0
    figures = {
        **extraction_figures,
        "segments_ok": extraction_figures["segments_ok"] - merge_failed,
        "segments_failed": extraction_figures["segments_failed"] + merge_failed,
    }
    warnings = int((errors["severity"] == WARNING).sum())
    summary = {
        "group": raw_records.group,
        "folder_exists": raw_records.exists,
        "records": len({t.record for t in discovery.tasks}),
        **figures,
        "problems": len(errors),
        "warnings": warnings,
    }
    logger.info(
        "Group %s done: %d segments ok, %d failed, %d problems (%d warnings), %.1f MB in %.1f s "
        "(%.1f MB/s).",
        raw_records.group,
        figures["segments_ok"],
        figures["segments_failed"],
        len(errors),
        warnings,
        figures["dat_bytes"] / 1e6,
        figures["seconds"],
        figures["dat_bytes"] / 1e6 / max(figures["seconds"], 1e-9),
    )
    return errors, summary


def _summarize(
    rows: pd.DataFrame,
    counts: list[ValueCounts],
    places: pd.DataFrame,
    normalize: SignalNameMap,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments placed in time with normalized signal names, and records merged.

    ``rows`` are positionally aligned with ``counts``; ``places`` holds one row per
    segment with its record folder and start times.
    """
    rows = rows.drop(columns=_PLACE_COLUMNS, errors="ignore")
    placed = rows.merge(places, on=_SEGMENT_KEY, how="left", validate="many_to_one")
    placed = placed.assign(signal=[normalize(name) for name in placed["signal_raw"]])
    segments = SEGMENT_FEATURES.conform(placed)
    return segments, merge_records(placed, counts)


def summarize_records(
    discovery: Discovery,
    segment_rows: pd.DataFrame,
    value_counts: list[ValueCounts],
    segment_index: pd.DataFrame,
    signal_names: dict,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Normalize signal names, place segments in time, merge each record's segments exactly.

    The whole group is summarized at once; if that fails, each record is
    summarized on its own behind the isolation boundary, so a record whose
    merge fails costs its own segments (an error row each, and no rows in
    ``segment_features``) and the rest of the group continues.

    Args:
        discovery: Output of :func:`discover` (where each segment's header is).
        segment_rows: Segment rows from :func:`extract`.
        value_counts: Their value counts, aligned by position.
        segment_index: The segment index from :func:`discover` (record folder,
            record and segment start times).
        signal_names: Canonical name → spellings (``params:signal_names``).

    Returns:
        ``segment_features`` (with ``signal``, ``record_dir`` and the start
        times), ``record_features`` and the error rows of segments whose record
        could not be merged.
    """
    normalize = SignalNameMap(signal_names)  # a setting: a bad one stops the run, loudly
    rows = segment_rows.reset_index(drop=True)
    if len(rows) != len(value_counts):
        raise ValueError(f"{len(rows)} segment rows but {len(value_counts)} value counts")
    # One place per segment: a damaged tree could list a segment twice.
    places = segment_index[_SEGMENT_KEY + _PLACE_COLUMNS].drop_duplicates(_SEGMENT_KEY)
    everything = isolate(lambda: _summarize(rows, value_counts, places, normalize), _WHOLE_GROUP)
    if not isinstance(everything, Problem):
        return (*everything, EXTRACTION_ERRORS.frame())
    headers = {t.segment: discovery.header_url(t) for t in discovery.tasks}
    segments, records, problems = [], [], []
    for (group, record), part in rows.groupby(["group", "record"], sort=True):
        outcome = isolate(
            lambda part=part: _summarize(
                part.reset_index(drop=True),
                [value_counts[i] for i in part.index],
                places,
                normalize,
            ),
            Where(str(group), str(record), "", ""),
            "merging the record",
        )
        if isinstance(outcome, Problem):
            problems.extend(
                Problem(
                    str(group),
                    str(record),
                    str(segment),
                    headers.get(str(segment), ""),
                    outcome.error_type,
                    f"not extracted: {outcome.message}",
                    ERROR,
                ).row()
                for segment in part["segment"].unique()
            )
            continue
        segments.append(outcome[0])
        records.append(outcome[1])
    return (
        SEGMENT_FEATURES.concat(segments),
        RECORD_FEATURES.concat(records),
        EXTRACTION_ERRORS.frame(problems),
    )


#: Where a failure of the whole group's summary points (it is retried per record).
_WHOLE_GROUP = Where("", "", "", "")

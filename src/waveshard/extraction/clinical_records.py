"""Per-record clinical windows: read each segment, place it, feed the window table.

The pure work a worker does for the ``clinical`` pipeline: a record's segments
are read one at a time as physical arrays (:mod:`waveshard.wfdb_io.samples`),
placed on the record's timeline (:mod:`waveshard.wfdb_io.timeline`) and
reduced by :class:`waveshard.features.clinical.RecordWindows`, so memory is
bounded by one segment. A segment that cannot be read or analysed becomes a
problem row and the record goes on without it.

Placement:

- a record with a master header: each segment at the sum of the master's
  segment lengths before it (``~`` gaps included); the record starts at the
  master's base date and time;
- a record without one (a lone segment, or a database without masters): each
  segment at its own base time relative to the earliest segment; without base
  times, one after the other in name order;
- numerics: at their base time relative to the record's start (MIMIC writes
  the master's base time, so offset 0).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from waveshard.features.clinical import Channel, ClinicalSettings, Piece, RecordWindows
from waveshard.wfdb_io.discovery import NUMERICS, Problem, SegmentTask
from waveshard.wfdb_io.headers import HeaderError, parse_header
from waveshard.wfdb_io.samples import read_physical
from waveshard.wfdb_io.storage import GroupFolder
from waveshard.wfdb_io.timeline import base_datetime, offset_between, segment_offsets


@dataclass(frozen=True)
class PlacedSegment:
    """A segment and where it starts on its record's timeline (seconds)."""

    task: SegmentTask
    offset_s: float


@dataclass(frozen=True)
class RecordPlan:
    """Everything needed to compute one record's windows.

    Attributes:
        group: Patient-group id.
        record: Record name.
        start: Absolute start (master base date and time), or None.
        segments: Waveform segments in timeline order.
        numerics: Numerics records of the record.
        dat_bytes: Total ``.dat`` bytes (for balancing shards).
    """

    group: str
    record: str
    start: np.datetime64 | None
    segments: tuple[PlacedSegment, ...]
    numerics: tuple[PlacedSegment, ...]
    dat_bytes: int


def _master_text(folder: GroupFolder, tasks: list[SegmentTask], record: str) -> str | None:
    directory = posixpath.dirname(tasks[0].header_path)
    path = posixpath.join(directory, record + ".hea")
    if path not in folder.files:
        return None
    text = folder.read_text(path)
    try:
        return text if parse_header(text).is_multi_segment else None
    except (HeaderError, ValueError):
        return None  # discovery has already reported an unparsable master


def plan_record(
    folder: GroupFolder, record: str, tasks: list[SegmentTask], master_text: str | None = None
) -> tuple[RecordPlan, list[Problem]]:
    """Place one record's segments on its timeline.

    Args:
        folder: The group folder.
        record: Record name.
        tasks: The record's segments (waveform and numerics) from discovery.
        master_text: The master header's text; read from the folder when None.

    Returns:
        The plan, and problems for segments that cannot be placed (a waveform
        segment the master does not list).
    """
    master_text = master_text if master_text is not None else _master_text(folder, tasks, record)
    waveforms = [t for t in tasks if t.kind != NUMERICS]
    numerics_tasks = [t for t in tasks if t.kind == NUMERICS]
    problems: list[Problem] = []
    placed: list[PlacedSegment] = []
    if master_text is not None:
        master = parse_header(master_text)
        offsets = segment_offsets(master)
        reference_text = master_text
        for task in waveforms:
            if task.segment not in offsets:
                problems.append(
                    Problem(
                        task.group,
                        record,
                        task.segment,
                        folder.url(task.header_path),
                        "UnplacedSegment",
                        f"the master header of {record} does not list {task.segment}, so its "
                        "place on the timeline is unknown; add it to the master or remove it",
                    )
                )
                continue
            placed.append(PlacedSegment(task, offsets[task.segment] / master.fs))
    else:
        ordered = sorted(waveforms, key=lambda t: t.segment)
        reference_text = ordered[0].header_text if ordered else ""
        position = 0.0
        for task in ordered:
            offset = offset_between(reference_text, task.header_text) if reference_text else None
            if offset is None:
                offset = position  # no base times: one after the other
            placed.append(PlacedSegment(task, offset))
            position = offset + task.header.sig_len / task.header.fs
    numerics = []
    for task in numerics_tasks:
        offset = offset_between(reference_text, task.header_text) if reference_text else None
        numerics.append(PlacedSegment(task, offset or 0.0))
    start_text = reference_text or (numerics_tasks[0].header_text if numerics_tasks else "")
    plan = RecordPlan(
        group=tasks[0].group,
        record=record,
        start=base_datetime(start_text) if start_text else None,
        segments=tuple(sorted(placed, key=lambda p: p.offset_s)),
        numerics=tuple(numerics),
        dat_bytes=sum(t.dat_bytes for t in tasks),
    )
    return plan, problems


def plan_records(
    folder: GroupFolder, tasks: Iterable[SegmentTask]
) -> tuple[list[RecordPlan], list[Problem]]:
    """Group discovery's segment tasks by record and place them."""
    by_record: dict[str, list[SegmentTask]] = defaultdict(list)
    for task in tasks:
        by_record[task.record].append(task)
    plans, problems = [], []
    for record in sorted(by_record):
        plan, found = plan_record(folder, record, by_record[record])
        plans.append(plan)
        problems.extend(found)
    return plans, problems


def _piece(folder: GroupFolder, placed: PlacedSegment, numerics: bool) -> Piece:
    signals = read_physical(folder, placed.task)
    channels = [Channel(s.name, s.values, s.fs, s.units, s.adc_range) for s in signals]
    return Piece(placed.offset_s, channels, numerics=numerics)


def record_windows(
    folder: GroupFolder, plan: RecordPlan, settings: ClinicalSettings | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """The window table of one record, one segment in memory at a time.

    Args:
        folder: The group folder.
        plan: The record's placed segments.
        settings: Clinical feature settings.

    Returns:
        The record's windows with ``group`` and ``record`` in front, and a
        problem per segment that could not be read or analysed. Never raises
        for bad data.
    """
    windows = RecordWindows(settings, plan.start)
    problems: list[Problem] = []
    for placed, numerics in [(p, False) for p in plan.segments] + [
        (p, True) for p in plan.numerics
    ]:
        task = placed.task
        try:
            windows.add(_piece(folder, placed, numerics))
        except Exception as exc:  # one bad segment is that segment's error row
            problems.append(
                Problem(
                    task.group,
                    task.record,
                    task.segment,
                    folder.url(task.header_path),
                    type(exc).__name__,
                    str(exc) or repr(exc),
                )
            )
    table = windows.table()
    table.insert(0, "record", pd.array([plan.record] * len(table), dtype="string"))
    table.insert(0, "group", pd.array([plan.group] * len(table), dtype="string"))
    return table, problems

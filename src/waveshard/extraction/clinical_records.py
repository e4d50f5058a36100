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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from waveshard.contract import NUMERICS, WARNING, Problem
from waveshard.extraction.boundary import SegmentOutcome
from waveshard.features.clinical import Channel, ClinicalSettings, Piece, RecordWindows
from waveshard.features.names import SignalNameMap
from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.headers import Header
from waveshard.wfdb_io.samples import read_physical
from waveshard.wfdb_io.storage import GroupFolder
from waveshard.wfdb_io.timeline import header_start, offset_between, record_timeline


@dataclass(frozen=True)
class PlacedSegment:
    """A segment and where it starts on its record's timeline (seconds)."""

    task: SegmentTask
    offset_s: float


@dataclass(frozen=True)
class RecordPlan:
    """Everything needed to compute one record's windows.

    It stands for the record wherever a segment task would (shards, progress,
    the isolation boundary), so it carries the same identifying attributes.

    Attributes:
        group: Patient-group id.
        record: Record name.
        start: Absolute start (master base date and time), or None.
        segments: Waveform segments in timeline order.
        numerics: Numerics records of the record.
        header_path: The master header (or the first segment's header), for
            error rows about the record as a whole.
        dat_bytes: Total ``.dat`` bytes (for balancing shards and progress).
    """

    group: str
    record: str
    start: np.datetime64 | None
    segments: tuple[PlacedSegment, ...]
    numerics: tuple[PlacedSegment, ...]
    header_path: str
    dat_bytes: int

    @property
    def segment(self) -> str:
        """Error rows about the whole record name no segment."""
        return ""


def plan_record(
    record: str,
    tasks: list[SegmentTask],
    master: Header | None,
    master_path: str = "",
    url: Callable[[str], str] = str,
) -> tuple[RecordPlan, list[Problem]]:
    """Place one record's segments on its timeline.

    Segments of a record with a master header are placed by the master's
    segment lengths (:func:`waveshard.wfdb_io.timeline.record_timeline`).

    Args:
        record: Record name.
        tasks: The record's segments (waveform and numerics) from discovery.
        master: The record's parsed master header, or None.
        master_path: Where the master header is, relative to the group folder.
        url: Turns a path relative to the group folder into the one error rows show.

    Returns:
        The plan, and a warning for each waveform segment the master does not
        list (its place in time is unknown, so it is left out).
    """
    waveforms = [t for t in tasks if t.kind != NUMERICS]
    numerics_tasks = [t for t in tasks if t.kind == NUMERICS]
    problems: list[Problem] = []
    placed: list[PlacedSegment] = []
    timeline = record_timeline(master) if master is not None else None
    if timeline is not None and not timeline.has_clock:
        timeline = None  # a master without a usable frequency places nothing
    reference: Header | None = master if timeline is not None else None
    if timeline is not None:
        for task in waveforms:
            offset_s = timeline.offset_s(task.segment)
            if offset_s is None:
                problems.append(
                    Problem(
                        task.group,
                        record,
                        task.segment,
                        url(task.header_path),
                        "UnplacedSegment",
                        f"the master header of {record} does not list {task.segment}, so its "
                        "place on the timeline is unknown and it has no windows; add it to the "
                        "master header or remove it",
                        severity=WARNING,
                    )
                )
                continue
            placed.append(PlacedSegment(task, offset_s))
    else:
        ordered = sorted(waveforms, key=lambda t: t.segment)
        reference = ordered[0].header if ordered else None
        position = 0.0
        for task in ordered:
            offset = offset_between(reference, task.header) if reference is not None else None
            if offset is None:
                offset = position  # no base times: one after the other
            placed.append(PlacedSegment(task, offset))
            position = offset + (task.header.sig_len / task.header.fs if task.header.fs > 0 else 0)
    numerics = []
    for task in numerics_tasks:
        offset = offset_between(reference, task.header) if reference is not None else None
        numerics.append(PlacedSegment(task, offset or 0.0))
    if reference is None and numerics_tasks:
        reference = numerics_tasks[0].header
    first = tasks[0]
    start = header_start(reference) if reference is not None else None
    plan = RecordPlan(
        group=first.group,
        record=record,
        start=np.datetime64(start, "ms") if start is not None else None,
        segments=tuple(sorted(placed, key=lambda p: p.offset_s)),
        numerics=tuple(numerics),
        header_path=master_path or first.header_path,
        dat_bytes=sum(t.dat_bytes for t in tasks),
    )
    return plan, problems


def plan_records(
    folder: GroupFolder, tasks: Iterable[SegmentTask], masters: Mapping[str, Header]
) -> tuple[list[RecordPlan], list[Problem]]:
    """Group discovery's segment tasks by record and place them on their timelines.

    Args:
        folder: The group folder (for the paths error rows show).
        tasks: Discovery's segment tasks.
        masters: Master headers by path relative to the group folder
            (``Discovery.masters``); a record's master is ``<its folder>/<record>.hea``.

    Returns:
        Plans in record order, and placement warnings.
    """
    by_record: dict[tuple[str, str], list[SegmentTask]] = defaultdict(list)
    for task in tasks:
        by_record[(posixpath.dirname(task.header_path), task.record)].append(task)
    plans, problems = [], []
    for (directory, record), record_tasks in sorted(by_record.items(), key=lambda i: i[0][::-1]):
        master_path = posixpath.join(directory, record + ".hea")
        master = masters.get(master_path)
        plan, found = plan_record(
            record, record_tasks, master, master_path if master else "", folder.url
        )
        plans.append(plan)
        problems.extend(found)
    return plans, problems


def _piece(
    folder: GroupFolder, placed: PlacedSegment, numerics: bool, names: SignalNameMap | None
) -> Piece:
    signals = read_physical(folder, placed.task)
    rename = names or (lambda name: name)
    channels = [Channel(rename(s.name), s.values, s.fs, s.units, s.adc_range) for s in signals]
    return Piece(placed.offset_s, channels, numerics=numerics)


def record_windows(
    folder: GroupFolder,
    plan: RecordPlan,
    settings: ClinicalSettings | None = None,
    names: SignalNameMap | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The window table of one record, one segment in memory at a time.

    Args:
        folder: The group folder.
        plan: The record's placed segments.
        settings: Clinical feature settings.
        names: The project's signal-name normalization (``ART`` -> ``ABP``),
            applied before channels are matched to signal kinds.

    Returns:
        The record's windows with ``group`` and ``record`` in front, and an
        error row per segment that could not be read or analysed (the record's
        other segments still give their windows). Never raises for bad data.
    """
    settings = settings or ClinicalSettings()
    windows = RecordWindows(settings, plan.start)
    problems: list[Problem] = []
    pieces = [(p, False) for p in plan.segments] + [(p, True) for p in plan.numerics]
    for placed, numerics in pieces:
        task = placed.task
        try:
            windows.add(_piece(folder, placed, numerics, names))
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


def clinical_record(
    folder: GroupFolder,
    task_index: int,
    plan: RecordPlan,
    settings: ClinicalSettings | None = None,
    names: SignalNameMap | None = None,
) -> SegmentOutcome:
    """One record's windows as an outcome of the shard runner.

    The record takes the place of a segment in
    :func:`waveshard.extraction.parallel.run_shards` (bind ``settings`` and
    ``names`` with :func:`functools.partial`): the window table travels back
    as the outcome's payload, segment problems as its problems, and an error
    that escapes the record becomes the record's error row at the boundary.
    """
    table, problems = record_windows(folder, plan, settings, names)
    return SegmentOutcome(
        task_index, plan.record, plan.dat_bytes, payload=(table,), problems=tuple(problems)
    )

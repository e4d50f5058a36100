"""The isolation boundary around per-segment work over a group's shards.

Whatever a segment does to the code that reads it (a zero sampling frequency, a
header field no reader expects, a decoder bug), the damage stays with that
segment: :func:`run_segment` runs the work through :func:`waveshard.isolation.isolate`,
which turns any exception into an error row for it, in this process and in
worker processes alike, so no per-segment input can stop a group or a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waveshard.contract import ERROR, Problem
from waveshard.isolation import Where, isolate
from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.storage import GroupFolder


@dataclass(frozen=True)
class SegmentOutcome:
    """What one segment gave: rows (with their payload) and problems.

    Only rows of numbers and small objects travel back from a worker, never
    the samples.

    Attributes:
        task_index: Position of the segment in the group's task list.
        record: Record the segment belongs to (for progress).
        dat_bytes: Bytes of ``.dat`` behind the segment (for progress).
        rows: Feature rows.
        payload: One object per row that travels with it (the profile's value counts).
        problems: Problem rows; a segment with an ``error`` problem gave no rows.
    """

    task_index: int
    record: str
    dat_bytes: int
    rows: tuple[dict, ...] = ()
    payload: tuple[Any, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def failed(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


#: Per-segment work: ``work(folder, task_index, task)`` gives the segment's outcome.
SegmentWork = Callable[[GroupFolder, int, SegmentTask], SegmentOutcome]


def failure(
    folder: GroupFolder, index: int, task: SegmentTask, error_type: str, message: str
) -> SegmentOutcome:
    """The outcome of a segment of which nothing could be extracted."""
    problem = Problem(
        task.group,
        task.record,
        task.segment,
        folder.url(task.header_path),
        error_type,
        message,
    )
    return SegmentOutcome(index, task.record, task.dat_bytes, problems=(problem,))


def run_segment(
    work: SegmentWork, folder: GroupFolder, index: int, task: SegmentTask
) -> SegmentOutcome:
    """``work`` on one segment; any exception becomes the segment's error row."""
    where = Where(task.group, task.record, task.segment, folder.url(task.header_path))
    outcome = isolate(lambda: work(folder, index, task), where)
    if isinstance(outcome, Problem):
        return SegmentOutcome(index, task.record, task.dat_bytes, problems=(outcome,))
    return outcome


def run_batch(
    work: SegmentWork, folder: GroupFolder, batch: list[tuple[int, SegmentTask]]
) -> list[SegmentOutcome]:
    """Every segment of one shard, in order, each behind the boundary."""
    return [run_segment(work, folder, index, task) for index, task in batch]

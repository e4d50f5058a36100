"""Per-segment extraction: the pure work a joblib worker does."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from waveshard.features.statistics import ValueCounts, summarize
from waveshard.wfdb_io.decode import count_digital_values
from waveshard.wfdb_io.discovery import Problem, SegmentTask
from waveshard.wfdb_io.read_ahead import reading_ahead
from waveshard.wfdb_io.storage import GroupFolder


@dataclass(frozen=True)
class SegmentOutcome:
    """Result of one segment: feature rows with their value counts, or a problem.

    Only rows of numbers and small count arrays (at most one entry per distinct
    digital value) travel back from a worker, never the samples.
    """

    task_index: int
    record: str
    dat_bytes: int
    rows: tuple[dict, ...] = ()
    counts: tuple[ValueCounts, ...] = ()
    problem: Problem | None = None


def extract_segment(folder: GroupFolder, task_index: int, task: SegmentTask) -> SegmentOutcome:
    """Exact per-channel statistics of one segment.

    Args:
        folder: The group folder holding the segment.
        task_index: Position of the task in the group's segment index.
        task: The segment to read.

    Returns:
        One row and one :class:`ValueCounts` per channel, or a problem if the
        segment could not be read; it never raises for bad data.
    """
    header = task.header
    try:
        channels = count_digital_values(folder, task)
    except Exception as exc:  # any failure of one segment is that segment's error row
        problem = Problem(
            task.group,
            task.record,
            task.segment,
            folder.url(task.header_path),
            type(exc).__name__,
            str(exc) or repr(exc),
        )
        return SegmentOutcome(task_index, task.record, task.dat_bytes, problem=problem)
    rows, counts = [], []
    for channel, (signal, digital) in enumerate(zip(header.signals, channels, strict=True)):
        vc = ValueCounts.from_digital(
            digital.values, digital.counts, signal.adc_gain, signal.baseline
        )
        n_valid = vc.n
        n_samples = digital.n_samples if digital.n_samples else header.sig_len
        rows.append(
            {
                "group": task.group,
                "record": task.record,
                "segment": task.segment,
                "kind": task.kind,
                "channel": channel,
                "signal_raw": signal.name,
                "units": signal.units,
                "fs": header.fs * signal.samps_per_frame,
                "n_samples": n_samples,
                "n_valid": n_valid,
                "missing_fraction": 1 - n_valid / n_samples if n_samples else math.nan,
                "duration_s": n_samples / (header.fs * signal.samps_per_frame),
                **summarize(vc),
                "fmt": signal.fmt,
                "adc_gain": signal.adc_gain,
                "baseline": signal.baseline,
                "checksum_ok": digital.checksum_ok,
            }
        )
        counts.append(vc)
    return SegmentOutcome(task_index, task.record, task.dat_bytes, tuple(rows), tuple(counts))


def extract_shard(
    folder: GroupFolder, shard: list[tuple[int, SegmentTask]], read_ahead_bytes: int = 0
) -> list[SegmentOutcome]:
    """Extract every segment of one micro-shard, in order.

    On an object store the shard's data files are read ahead, up to
    ``read_ahead_bytes`` beyond the segment being counted (see
    :mod:`waveshard.wfdb_io.read_ahead`).
    """
    with reading_ahead(folder, [task for _, task in shard], read_ahead_bytes) as source:
        return [extract_segment(source, index, task) for index, task in shard]


def for_workers(folder: GroupFolder) -> GroupFolder:
    """The folder without its file listing: workers only read, and the listing is large."""
    return replace(folder, files={})

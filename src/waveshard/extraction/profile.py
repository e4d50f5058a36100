"""The profile's per-segment work: exact statistics of every channel of a segment."""

from __future__ import annotations

import math

from waveshard.contract import WARNING, Problem
from waveshard.extraction.boundary import SegmentOutcome
from waveshard.features.statistics import ValueCounts, summarize
from waveshard.wfdb_io.decode import count_digital_values
from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.headers import INT64_RANGE
from waveshard.wfdb_io.storage import GroupFolder


def duration_s(n_samples: int, fs: float) -> float:
    """Seconds covered by ``n_samples`` at ``fs`` Hz; NaN where ``fs`` gives no duration."""
    if not math.isfinite(fs) or fs <= 0:
        return math.nan
    return n_samples / fs


def profile_segment(folder: GroupFolder, task_index: int, task: SegmentTask) -> SegmentOutcome:
    """Exact per-channel statistics of one segment.

    Args:
        folder: The group folder holding the segment.
        task_index: Position of the task in the group's task list.
        task: The segment to read.

    Returns:
        One row per channel (raw signal names; ``signal`` is added when records
        are summarized), as payload one :class:`ValueCounts` per channel, and a
        warning where the sampling frequency gives no duration.
    """
    header = task.header
    channels = count_digital_values(folder, task)
    rows, counts = [], []
    for channel, (signal, digital) in enumerate(zip(header.signals, channels, strict=True)):
        vc = ValueCounts.from_digital(
            digital.values, digital.counts, signal.adc_gain, signal.baseline
        )
        fs = header.fs * signal.samps_per_frame
        n_samples = digital.n_samples
        baseline_fits = INT64_RANGE[0] <= signal.baseline <= INT64_RANGE[1]
        rows.append(
            {
                "group": task.group,
                "record": task.record,
                "segment": task.segment,
                "kind": task.kind,
                "channel": channel,
                "signal_raw": signal.name,
                "units": signal.units,
                "fs": fs,
                "n_samples": n_samples,
                "n_valid": vc.n,
                "missing_fraction": 1 - vc.n / n_samples if n_samples else math.nan,
                "duration_s": duration_s(n_samples, fs),
                **summarize(vc),
                "fmt": int(signal.fmt),
                "adc_gain": signal.adc_gain,
                "baseline": signal.baseline if baseline_fits else None,
                "checksum_ok": digital.checksum_ok,
            }
        )
        counts.append(vc)
    problems = ()
    # (A frequency that is not finite already has its note from the header.)
    if math.isfinite(header.fs) and header.fs <= 0:
        problems = (
            Problem(
                task.group,
                task.record,
                task.segment,
                folder.url(task.header_path),
                "InvalidSamplingFrequency",
                f"sampling frequency {header.fs:g} Hz gives no duration: the samples are "
                "extracted as wfdb reads them, duration_s is left empty",
                WARNING,
            ),
        )
    return SegmentOutcome(
        task_index, task.record, task.dat_bytes, tuple(rows), tuple(counts), problems
    )

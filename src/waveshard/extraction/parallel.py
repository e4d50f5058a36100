"""Run micro-shards with joblib, largest first, reporting progress as they finish."""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence

import joblib

from waveshard.extraction.progress import ProgressLog
from waveshard.extraction.segments import SegmentOutcome, extract_shard, for_workers
from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.storage import GroupFolder

logger = logging.getLogger(__name__)


def resolve_workers(n_workers: int | None) -> int:
    """Worker count: the parameter if set, else ``joblib.cpu_count()`` (honours cgroup quotas)."""
    if n_workers is None:
        return max(1, joblib.cpu_count())
    if int(n_workers) < 1:
        raise ValueError(f"n_workers must be a positive integer or null, got {n_workers!r}")
    return int(n_workers)


def _extract_in_worker(folder: GroupFolder, payload: list[tuple[int, SegmentTask]]):
    # loky runs a full gc.collect() in a worker between tasks; with pandas and wfdb
    # imported that walks ~70k objects (~70 ms) every time. Freezing what exists
    # (modules, mostly) limits it to what tasks create; frozen objects are still
    # freed by reference counting.
    gc.freeze()
    return extract_shard(folder, payload)


def run_shards(
    folder: GroupFolder,
    tasks: Sequence[SegmentTask],
    shards: Sequence[Sequence[int]],
    n_workers: int,
    progress: ProgressLog,
) -> list[SegmentOutcome]:
    """Extract all shards; outcomes come back in task order.

    With one worker (or one shard) the work runs in this process, which saves
    starting a process pool for small groups.

    Args:
        folder: The group folder.
        tasks: The group's segments.
        shards: Task positions per shard, heaviest first.
        n_workers: Processes to use.
        progress: Receives every finished shard.

    Returns:
        One outcome per task, ordered by task position.
    """
    worker_folder = for_workers(folder)
    payloads = [[(i, tasks[i]) for i in shard] for shard in shards]
    outcomes: list[SegmentOutcome] = []

    def collect(batch: list[SegmentOutcome]) -> None:
        outcomes.extend(batch)
        progress.advance((o.record for o in batch), sum(o.dat_bytes for o in batch))

    if n_workers == 1 or len(payloads) <= 1:
        for payload in payloads:
            collect(extract_shard(worker_folder, payload))
    else:
        parallel = joblib.Parallel(
            n_jobs=min(n_workers, len(payloads)),
            backend="loky",
            batch_size=1,
            pre_dispatch="all",
            return_as="generator_unordered",
        )
        for batch in parallel(
            joblib.delayed(_extract_in_worker)(worker_folder, payload) for payload in payloads
        ):
            collect(batch)
    outcomes.sort(key=lambda o: o.task_index)
    return outcomes

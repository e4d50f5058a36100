"""Run shards with joblib, largest first, reporting progress as they finish."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import joblib
from joblib.externals.loky import get_reusable_executor

from waveshard.extraction.boundary import SegmentOutcome, SegmentWork, failure, run_batch
from waveshard.extraction.progress import ProgressLog
from waveshard.extraction.sharding import plan_shards
from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.read_ahead import reading_ahead
from waveshard.wfdb_io.storage import GroupFolder

logger = logging.getLogger(__name__)


def resolve_workers(n_workers: int | None) -> int:
    """Worker count: the parameter if set, else ``joblib.cpu_count()`` (honours cgroup quotas)."""
    if n_workers is None:
        return max(1, joblib.cpu_count())
    if int(n_workers) < 1:
        raise ValueError(f"n_workers must be a positive integer or null, got {n_workers!r}")
    return int(n_workers)


def plan_work(
    sizes: Sequence[int], n_workers: int | None, shards_per_worker: int, parallel_min_mb: float
) -> dict[str, Any]:
    """Workers and balanced shards for items of ``sizes`` bytes (see the ``plan_*`` nodes).

    Returns:
        ``{"workers": int, "shards": [[item position, ...], ...]}``, heaviest shard
        first; one worker when the items hold less than ``parallel_min_mb``.
    """
    workers = resolve_workers(n_workers)
    if sum(sizes) < parallel_min_mb * 1e6:
        workers = 1
    if shards_per_worker < 1:
        raise ValueError(f"shards_per_worker must be at least 1, got {shards_per_worker}")
    shards = plan_shards(sizes, workers * shards_per_worker) if sizes else []
    return {"workers": workers, "shards": shards}


def _run_reading_ahead(
    work: SegmentWork,
    folder: GroupFolder,
    batch: list[tuple[int, SegmentTask]],
    read_ahead_bytes: int,
) -> list[SegmentOutcome]:
    """:func:`run_batch`, with the batch's data files read ahead on object stores."""
    with reading_ahead(folder, [task for _, task in batch], read_ahead_bytes) as source:
        return run_batch(work, source, batch)


def _run_in_worker(
    work: SegmentWork,
    folder: GroupFolder,
    batch: list[tuple[int, SegmentTask]],
    read_ahead_bytes: int = 0,
):
    # loky runs a full gc.collect() in a worker between tasks; with pandas and wfdb
    # imported that walks ~70k objects (~70 ms) every time. Freezing what exists
    # (modules, mostly) limits it to what tasks create; frozen objects are still
    # freed by reference counting.
    gc.freeze()
    return _run_reading_ahead(work, folder, batch, read_ahead_bytes)


def _parallel(n_jobs: int) -> joblib.Parallel:
    return joblib.Parallel(
        n_jobs=n_jobs,
        backend="loky",
        batch_size=1,
        pre_dispatch="all",
        return_as="generator_unordered",
    )


def _worker_failed(
    folder: GroupFolder, index: int, task: SegmentTask, exc: Exception
) -> SegmentOutcome:
    message = (
        f"not extracted: the worker process failed ({type(exc).__name__}: {exc}); "
        "rerun the group, or extract this segment alone to see whether it is the cause"
    )
    return failure(folder, index, task, "WorkerFailed", message)


def _one_at_a_time(
    work: SegmentWork,
    folder: GroupFolder,
    worker_folder: GroupFolder,
    items: list[tuple[int, SegmentTask]],
    collect: Callable[[list[SegmentOutcome]], None],
    *,
    read_ahead_bytes: int = 0,
) -> None:
    """Extract ``items`` one per task in one worker process, in order.

    A single worker takes its tasks in order, so the first one that does not come
    back is the one it died on: that segment becomes a ``WorkerFailed`` outcome and
    the rest go to a fresh worker. Never in this process: what killed a worker
    (memory, a crash in a library) would kill the run.
    """
    queue = list(items)
    while queue:
        executor = get_reusable_executor(max_workers=1)
        futures = [
            (item, executor.submit(_run_in_worker, work, worker_folder, [item], read_ahead_bytes))
            for item in queue
        ]
        queue = []
        for position, ((index, task), future) in enumerate(futures):
            try:
                collect(future.result())
            except Exception as exc:
                logger.error(
                    "Group %s: a worker process died extracting %s (%s: %s); reported as "
                    "a WorkerFailed error.",
                    folder.group,
                    task.segment,
                    type(exc).__name__,
                    exc,
                )
                collect([_worker_failed(folder, index, task, exc)])
                queue = [item for item, _ in futures[position + 1 :]]
                break


def run_shards(
    work: SegmentWork,
    folder: GroupFolder,
    tasks: Sequence[SegmentTask],
    shards: Sequence[Sequence[int]],
    *,
    n_workers: int,
    progress: ProgressLog,
    read_ahead_bytes: int = 0,
) -> list[SegmentOutcome]:
    """Run ``work`` on every segment of every shard; outcomes come back in task order.

    Each segment runs behind the isolation boundary (:mod:`.boundary`). With one
    worker (or one shard) the work runs in this process, which saves starting a
    process pool for small groups. If a worker process dies, the segments it had
    not returned are run again one at a time in a single worker; a segment that
    kills a worker again becomes a ``WorkerFailed`` outcome instead of failing the
    whole group.

    Args:
        work: The per-segment work (a module-level function: it goes to workers).
        folder: The group folder.
        tasks: The group's segments.
        shards: Task positions per shard, heaviest first.
        n_workers: Processes to use.
        progress: Receives every finished shard.
        read_ahead_bytes: On object stores, bytes of data files each worker reads
            ahead of the segment it is on (:mod:`waveshard.wfdb_io.read_ahead`).

    Returns:
        One outcome per task, ordered by task position.
    """
    # Workers only read: the group's file listing (large) stays here.
    worker_folder = replace(folder, files={})
    payloads = [[(i, tasks[i]) for i in shard] for shard in shards]
    outcomes: list[SegmentOutcome] = []

    def collect(batch: list[SegmentOutcome]) -> None:
        outcomes.extend(batch)
        progress.advance((o.record for o in batch), sum(o.dat_bytes for o in batch))

    if n_workers == 1 or len(payloads) <= 1:
        for payload in payloads:
            collect(_run_reading_ahead(work, worker_folder, payload, read_ahead_bytes))
    else:
        try:
            for batch in _parallel(min(n_workers, len(payloads)))(
                joblib.delayed(_run_in_worker)(work, worker_folder, payload, read_ahead_bytes)
                for payload in payloads
            ):
                collect(batch)
        except Exception as exc:  # a worker died: killed, out of memory, crashed
            done = {o.task_index for o in outcomes}
            lost = [item for payload in payloads for item in payload if item[0] not in done]
            logger.warning(
                "Group %s: a worker process died (%s); extracting the %d segments left one "
                "at a time in a single worker, to find the one it died on.",
                folder.group,
                type(exc).__name__,
                len(lost),
            )
            _one_at_a_time(
                work, folder, worker_folder, lost, collect, read_ahead_bytes=read_ahead_bytes
            )
    outcomes.sort(key=lambda o: o.task_index)
    return outcomes

"""A worker process that dies costs one segment, not the group."""

from __future__ import annotations

import dataclasses
import logging
import os

from tests.support.paths import PROJECT_ROOT
from waveshard.extraction.parallel import run_shards
from waveshard.extraction.profile import profile_segment
from waveshard.extraction.progress import ProgressLog
from waveshard.extraction.sharding import plan_shards
from waveshard.wfdb_io.discovery import discover_segments
from waveshard.wfdb_io.storage import GroupFolder


class KillsTheWorker:
    """Unpickling this ends the process that unpickles it, as a crash would."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_segment_that_kills_its_worker_is_reported_and_the_rest_extracted(caplog) -> None:
    folder = GroupFolder.scan("32", str(PROJECT_ROOT / "data" / "01_raw" / "32"))
    tasks = discover_segments(folder).tasks
    victim = len(tasks) // 2
    tasks[victim] = dataclasses.replace(tasks[victim], header=KillsTheWorker())
    shards = plan_shards([t.dat_bytes for t in tasks], 4)
    progress = ProgressLog("Group 32", (t.record for t in tasks), 0, 3600, logging.getLogger())
    with caplog.at_level(logging.WARNING):
        outcomes = run_shards(
            profile_segment, folder, tasks, shards, n_workers=2, progress=progress
        )
    assert [o.task_index for o in outcomes] == list(range(len(tasks)))
    failed = [o for o in outcomes if o.failed]
    assert [o.task_index for o in failed] == [victim]
    [problem] = failed[0].problems
    assert problem.error_type == "WorkerFailed"
    assert problem.segment == tasks[victim].segment
    assert all(o.rows for o in outcomes if not o.failed)
    assert progress.segments_done == len(tasks)
    assert f"a worker process died extracting {tasks[victim].segment}" in caplog.text

"""The scheduler's pace and what the live table shows, with a fake backend (no I/O)."""

from __future__ import annotations

import time
from pathlib import Path

from waveshard.runners.backends import JobState
from waveshard.runners.job_spec import JobSpec
from waveshard.runners.scheduler import JobRun, Scheduler
from waveshard.runners.settings import ProcessingSettings
from waveshard.runners.tables import status_table


class SlowStarter:
    """Jobs that are InProgress for ``describes_to_finish`` describes, then Failed."""

    name = "fake"

    def __init__(self, describes_to_finish: int = 3) -> None:
        self.left: dict[str, int] = {}
        self.describes_to_finish = describes_to_finish

    def describe(self, job_name: str) -> JobState | None:
        if job_name not in self.left:
            return None
        self.left[job_name] -= 1
        return JobState("InProgress" if self.left[job_name] > 0 else "Failed", "boom")

    def create(self, request: dict) -> None:
        self.left[request["ProcessingJobName"]] = self.describes_to_finish

    def stop(self, job_name: str) -> None:
        pass

    def log_link(self, job_name: str) -> str:
        return ""


def _job(tmp_path: Path, namespace: str = "g") -> JobRun:
    return JobRun(
        spec=JobSpec(
            namespace=namespace,
            nodes=(f"{namespace}.n",),
            inputs=(),
            output_uri=str(tmp_path / namespace),
            fingerprint="f" * 64,
        )
    )


def test_the_local_backend_is_polled_in_fractions_of_a_second(tmp_path: Path) -> None:
    sleeps: list[float] = []
    settings = ProcessingSettings.from_sources({"backend": "local", "live": False})
    scheduler = Scheduler(
        SlowStarter(),
        settings,
        build=lambda job, name: {"ProcessingJobName": name},
        sleep=sleeps.append,
    )
    job = _job(tmp_path)
    scheduler.run([job])
    assert job.outcome == "failed"
    # SageMaker's 15 s polling for a job that ends within a second would wait 15 s
    assert 0 < sum(sleeps) < 3, sleeps


def test_a_running_job_shows_its_elapsed_time_before_the_backend_reports_a_start(
    tmp_path: Path,
) -> None:
    job = _job(tmp_path)
    job.name, job.outcome, job.submitted_at = "ws-g-1", "running", time.time() - 75
    job.state = JobState("InProgress")  # SageMaker: no ProcessingStartTime while provisioning
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(status_table([job]))
    assert "1m15s" in console.export_text() or "1m16s" in console.export_text()

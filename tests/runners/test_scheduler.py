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


class Remembers:
    """A backend that remembers earlier attempts (by name) and records creates."""

    name = "fake"

    def __init__(self, states: dict[str, JobState]) -> None:
        self.states = dict(states)
        self.created: list[str] = []

    def describe(self, job_name: str) -> JobState | None:
        return self.states.get(job_name)

    def create(self, request: dict) -> None:
        self.created.append(request["ProcessingJobName"])
        self.states[request["ProcessingJobName"]] = JobState("InProgress")

    def stop(self, job_name: str) -> None:
        pass

    def log_link(self, job_name: str) -> str:
        return ""


def test_a_completed_attempt_whose_outputs_are_gone_leads_to_the_next_attempt(
    tmp_path: Path,
) -> None:
    from waveshard.runners.job_spec import job_name

    job = _job(tmp_path)
    first = job_name("ws", "g", job.spec.fingerprint, 1)
    backend = Remembers({first: JobState("Completed")})  # its output folder is empty
    scheduler = Scheduler(
        backend,
        ProcessingSettings.from_sources({"backend": "local"}),
        build=lambda job, name: {"ProcessingJobName": name},
    )
    scheduler.submit(job)
    assert backend.created == [job_name("ws", "g", job.spec.fingerprint, 2)]
    assert job.outcome == "running"


def test_local_job_state_is_kept_per_store(tmp_path: Path) -> None:
    from waveshard.runners.backends import make_backend, store_scope

    aws = store_scope({})
    server = store_scope({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    other = store_scope({"AWS_ENDPOINT_URL": "http://127.0.0.1:5001"})
    assert len({aws, server, other}) == 3
    assert server == "store-127.0.0.1-5000"
    settings = ProcessingSettings.from_sources({"backend": "local", "local_work_dir": tmp_path})
    backend = make_backend(settings)
    assert backend.work_dir.parent == tmp_path and backend.work_dir.name.startswith("store-")

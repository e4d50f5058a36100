"""Ctrl-C while jobs run: the runner stops exactly the jobs this run created.

A fake :class:`~waveshard.runners.backends.Backend` (no moto, no subprocess) holds
job states by name; the :class:`~waveshard.runners.scheduler.Scheduler` is driven directly.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from waveshard.runners.backends import JobState
from waveshard.runners.job_spec import JobSpec, job_name
from waveshard.runners.scheduler import JobRun, Scheduler
from waveshard.runners.settings import ProcessingSettings

FP = "0123456789abcdef" * 4


def _name(namespace: str, attempt: int = 1) -> str:
    return job_name("ws", namespace, FP, attempt)


class FakeBackend:
    """Jobs in a dict; records every create and stop.

    Args:
        existing: Jobs that exist before the run (started by someone else).
        fail_at_once: Namespaces whose created job is Failed when first described.
        interrupt_create: Namespace whose create reaches the service, then Ctrl-C.
        interrupt_log_link: Namespace whose job is created, then Ctrl-C before it
            is tracked as running.
    """

    name = "fake"

    def __init__(
        self,
        existing: dict[str, JobState] | None = None,
        *,
        fail_at_once: tuple[str, ...] = (),
        interrupt_create: str | None = None,
        interrupt_log_link: str | None = None,
        failing_stop: tuple[str, ...] = (),
    ) -> None:
        self.states = dict(existing or {})
        self.fail_at_once = fail_at_once
        self.interrupt_create = interrupt_create
        self.interrupt_log_link = interrupt_log_link
        self.failing_stop = failing_stop
        self.created: list[str] = []
        self.stopped: list[str] = []

    def describe(self, job_name: str) -> JobState | None:
        return self.states.get(job_name)

    def create(self, request: dict) -> None:
        name = request["ProcessingJobName"]
        self.created.append(name)
        failed = any(f"-{ns.replace('_', '-')}-" in name for ns in self.fail_at_once)
        self.states[name] = JobState("Failed" if failed else "InProgress", "boom")
        if self.interrupt_create and f"-{self.interrupt_create.replace('_', '-')}-" in name:
            raise KeyboardInterrupt

    def stop(self, job_name: str) -> None:
        self.stopped.append(job_name)
        if job_name in self.failing_stop:
            raise RuntimeError("stop refused")
        self.states[job_name] = JobState("Stopping")

    def log_link(self, job_name: str) -> str:
        if self.interrupt_log_link and (
            f"-{self.interrupt_log_link.replace('_', '-')}-" in job_name
        ):
            raise KeyboardInterrupt
        return f"fake://{job_name}"


def _jobs(tmp_path: Path, *namespaces: str) -> list[JobRun]:
    return [
        JobRun(
            spec=JobSpec(
                namespace=ns,
                nodes=(f"{ns}.extract",),
                inputs=(),
                output_uri=str(tmp_path / ns),
                outputs={f"{ns}.features": "features.parquet"},
                fingerprint=FP,
            )
        )
        for ns in namespaces
    ]


def _schedule(jobs: list[JobRun], backend: FakeBackend, **settings) -> Scheduler:
    scheduler = Scheduler(
        backend,
        ProcessingSettings(backend="local", live=False, poll_initial_s=0, poll_max_s=0, **settings),
        build=lambda job, name: {"ProcessingJobName": name},
    )
    scheduler.run(jobs)
    return scheduler


def test_ctrl_c_while_polling_stops_only_the_jobs_this_run_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = FakeBackend(
        {
            _name("g_followed"): JobState("InProgress"),  # another driver's job
            _name("g_retried", 1): JobState("Failed", "earlier failure"),
        },
        fail_at_once=("g_failed",),
        failing_stop=(_name("g_new"),),  # one refusal must not spare the others
    )
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", sleep)
    jobs = _jobs(tmp_path, "g_new", "g_followed", "g_failed", "g_retried", "g_never")
    with pytest.raises(KeyboardInterrupt):
        _schedule(jobs, backend, max_concurrent_jobs=3)

    # g_failed ended before Ctrl-C, then g_retried took its slot; g_never never started.
    assert backend.created == [_name("g_new"), _name("g_failed"), _name("g_retried", 2)]
    assert sorted(backend.stopped) == sorted([_name("g_new"), _name("g_retried", 2)])
    by_ns = {j.spec.namespace: j for j in jobs}
    assert by_ns["g_retried"].reason == "stopped (Ctrl-C)"
    assert by_ns["g_followed"].outcome == "running" and not by_ns["g_followed"].created
    assert by_ns["g_never"].outcome == "pending"


def test_ctrl_c_right_after_a_create_still_stops_that_job(tmp_path: Path) -> None:
    backend = FakeBackend(interrupt_log_link="g_second")
    jobs = _jobs(tmp_path, "g_first", "g_second", "g_third")
    with pytest.raises(KeyboardInterrupt):
        _schedule(jobs, backend, max_concurrent_jobs=3)
    assert backend.created == [_name("g_first"), _name("g_second")]
    assert sorted(backend.stopped) == sorted(backend.created)


def test_ctrl_c_during_the_create_call_stops_the_job_it_may_have_started(
    tmp_path: Path,
) -> None:
    backend = FakeBackend(
        {_name("g_followed"): JobState("InProgress")}, interrupt_create="g_second"
    )
    jobs = _jobs(tmp_path, "g_followed", "g_first", "g_second")
    with pytest.raises(KeyboardInterrupt):
        _schedule(jobs, backend, max_concurrent_jobs=3)
    assert backend.created == [_name("g_first"), _name("g_second")]
    assert sorted(backend.stopped) == sorted(backend.created)

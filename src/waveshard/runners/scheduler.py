"""Submit, poll, stop and finish jobs on one backend, at most N at a time.

The scheduler knows jobs only as :class:`JobRun` records and requests; what a
request holds is decided by the caller (``build``), what the backend does with
it by the backend.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from waveshard.runners import marker as markers
from waveshard.runners import storage
from waveshard.runners.backends import TERMINAL, AdaptiveThrottle, Backend, JobState, elapsed
from waveshard.runners.job_spec import JobSpec, job_name
from waveshard.runners.settings import ProcessingSettings

logger = logging.getLogger(__name__)
#: Attempts per job fingerprint (a failed or stopped attempt's name cannot be reused).
MAX_ATTEMPTS = 50


@dataclass
class JobRun:
    """One job through the run: its spec, what it reads, and what became of it.

    Attributes:
        outcome: ``pending``, ``running``, ``skipped`` (complete already), ``empty``
            (nothing to read: no job), ``completed`` or ``failed``.
        created: This run created the job (so Ctrl-C stops it).
        files: Input objects of the job.
    """

    spec: JobSpec
    records: int = 0
    files: int = 0
    input_bytes: int = 0
    name: str = ""
    state: JobState | None = None
    created: bool = False
    skipped: bool = False
    outcome: str = "pending"
    reason: str = ""
    log_link: str = ""
    estimate_s: float = 0.0
    estimate: Any = None
    instance_seconds: float = 0.0
    submitted_at: float = field(default_factory=time.time)

    @property
    def empty(self) -> bool:
        """The job would read nothing: it gets no job."""
        return self.outcome == "empty"


class Scheduler:
    """Runs jobs on a backend: describe-before-create, bounded concurrency, backoff.

    Args:
        backend: Where jobs run.
        settings: ``max_concurrent_jobs``, ``job_name_prefix``, ``force``, polling
            and ``instance_count``.
        build: Makes the request of a job under a given job name.
        on_change: Called after every round of submissions and polls (live table).
        sleep: Injected for tests.
    """

    def __init__(
        self,
        backend: Backend,
        settings: ProcessingSettings,
        *,
        build: Callable[[JobRun, str], dict[str, Any]],
        on_change: Callable[[], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.build = build
        self.on_change = on_change or (lambda: None)
        self.sleep = sleep or time.sleep
        self.throttle = AdaptiveThrottle()
        #: Every request this scheduler sent, in order.
        self.requests: list[dict[str, Any]] = []

    def run(self, jobs: list[JobRun]) -> None:
        """Run ``jobs`` to a terminal state; on Ctrl-C stop the ones this run created."""
        settings = self.settings
        pending: deque[JobRun] = deque(jobs)
        running: list[JobRun] = []
        interval = settings.poll_initial_s
        try:
            while pending or running:
                while pending and len(running) < settings.max_concurrent_jobs:
                    job = pending.popleft()
                    self.submit(job)
                    if job.outcome == "running":
                        running.append(job)
                self.on_change()
                if not running:
                    continue
                self.sleep(interval)
                changed = False
                for job in list(running):
                    state = self.throttle.call(self.backend.describe, job.name)
                    if state is None:
                        continue
                    changed |= job.state is None or state.status != job.state.status
                    job.state = state
                    if state.status in TERMINAL:
                        running.remove(job)
                        self.finish(job)
                # Back off while nothing changes; look again soon after a change.
                interval = (
                    settings.poll_initial_s if changed else min(interval * 1.5, settings.poll_max_s)
                )
                self.on_change()
        except KeyboardInterrupt:
            self.stop_created(jobs)
            raise

    def stop_created(self, jobs: list[JobRun]) -> None:
        """Stop every job this run created and has not seen end.

        That includes one whose create call was interrupted (it may have reached
        the service) and one created but not yet tracked as running; never a job
        this run merely follows.
        """
        mine = [j for j in jobs if j.created and j.outcome in ("pending", "running")]
        logger.warning("Interrupted: stopping %d job(s) this run started.", len(mine))
        for job in mine:
            try:
                self.throttle.call(self.backend.stop, job.name)
                job.outcome, job.reason = "failed", "stopped (Ctrl-C)"
            except Exception as exc:
                logger.error("Could not stop %s: %s", job.name, exc)

    def submit(self, job: JobRun) -> None:
        """Create the job's next attempt, or follow an attempt that is running already."""
        spec = job.spec
        for attempt in range(1, MAX_ATTEMPTS + 1):
            name = job_name(self.settings.job_name_prefix, spec.key, spec.fingerprint, attempt)
            state = self.throttle.call(self.backend.describe, name)
            if state is None:
                request = self.build(job, name)
                self.requests.append(request)
                # Set before the call: Ctrl-C during it may come after the service
                # accepted the job, which must then be stopped too.
                job.name, job.created = name, True
                try:
                    self.throttle.call(self.backend.create, request)
                except Exception:
                    job.created = False
                    raise
                break
            running = state.status in ("InProgress", "Stopping")
            done = state.status == "Completed" and not self.settings.force
            if running or (done and self._marker_matches(spec)):
                logger.info(
                    "Job %s exists (%s): following it instead of creating a new one.",
                    name,
                    state.status,
                )
                job.state = state
                break
            if done:
                # Its outputs were deleted (or never arrived): stale, not done.
                logger.info(
                    "Job %s completed earlier but its completion marker is gone: starting "
                    "the next attempt.",
                    name,
                )
            # Failed, stopped, stale or forced: the next attempt number.
        else:
            job.outcome, job.reason = "failed", f"{MAX_ATTEMPTS} attempts failed already"
            return
        job.name = name
        job.log_link = self.backend.log_link(name)
        job.outcome = "running"
        job.submitted_at = time.time()
        logger.info("%s: job %s; logs: %s", spec.key, name, job.log_link)
        if job.state is not None and job.state.status in TERMINAL:
            job.outcome = "done-before"
            self.finish(job)

    @staticmethod
    def _marker_matches(spec: JobSpec) -> bool:
        found = markers.read_marker(spec.output_uri, spec.marker_name)
        return markers.is_complete(found, spec.fingerprint)

    def finish(self, job: JobRun) -> None:
        """Record a terminal job's outcome: completed only with its completion marker."""
        state = job.state
        job.instance_seconds = elapsed(state) * self.settings.instance_count
        if state.status == "Completed":
            found = markers.read_marker(job.spec.output_uri, job.spec.marker_name)
            if markers.is_complete(found, job.spec.fingerprint):
                job.outcome, job.reason = "completed", ""
            else:
                job.outcome = "failed"
                job.reason = (
                    f"job Completed but wrote no completion marker "
                    f"{storage.join(job.spec.output_uri, job.spec.marker_name)}"
                )
        else:
            job.outcome = "failed"
            job.reason = state.exit_message or state.failure_reason or state.status
        log = logger.info if job.outcome == "completed" else logger.error
        log("%s: %s %s %s", job.spec.key, job.name, job.outcome, job.reason)

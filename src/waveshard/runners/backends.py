"""What the runner needs from a place that runs Processing jobs."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

TERMINAL = ("Completed", "Failed", "Stopped")
THROTTLING_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
}


@dataclass
class JobState:
    """A job as the backend last described it."""

    status: str
    failure_reason: str | None = None
    exit_message: str | None = None
    started: datetime | None = None
    ended: datetime | None = None


class Backend(Protocol):
    """Create, describe and stop jobs from ``CreateProcessingJob`` requests."""

    name: str

    def describe(self, job_name: str) -> JobState | None:
        """The job's state, or ``None`` if no job has that name."""

    def create(self, request: dict[str, Any]) -> None:
        """Start the job the request describes."""

    def stop(self, job_name: str) -> None:
        """Ask the job to stop."""

    def log_link(self, job_name: str) -> str:
        """Where the job's logs are."""


class AdaptiveThrottle:
    """Retries calls the service throttled, and slows every later call down.

    Each throttling error doubles a shared delay (with jitter) that every call
    waits first; each success shrinks it again, so the driver settles at a
    request rate the account's API limits accept.

    Args:
        max_attempts: Tries per call before the throttling error is raised.
        max_delay_s: Upper bound of the shared delay.
        sleep: Injected for tests.
    """

    def __init__(
        self, *, max_attempts: int = 8, max_delay_s: float = 30.0, sleep=time.sleep
    ) -> None:
        self.max_attempts = max_attempts
        self.max_delay_s = max_delay_s
        self.delay_s = 0.0
        self.throttled = 0
        self._sleep = sleep

    def call(self, fn, *args, **kwargs):
        for attempt in range(1, self.max_attempts + 1):
            if self.delay_s:
                self._sleep(self.delay_s * (0.5 + random.random() / 2))
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                if not is_throttling(exc) or attempt == self.max_attempts:
                    raise
                self.throttled += 1
                self.delay_s = min(max(self.delay_s * 2, 0.5), self.max_delay_s)
                continue
            self.delay_s = self.delay_s / 2 if self.delay_s > 0.05 else 0.0
            return result
        raise AssertionError("unreachable")


def is_throttling(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    code = (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in THROTTLING_CODES


def elapsed(state: JobState, default_end: float | None = None) -> float:
    """Seconds between start and end (or now) of a job."""
    if state.started is None:
        return 0.0
    end = state.ended.timestamp() if state.ended else (default_end or time.time())
    return max(0.0, end - state.started.timestamp())


def default_work_dir() -> str:
    """Where the local backend keeps its job folders unless ``local_work_dir`` says."""
    import os
    import tempfile

    return os.path.join(tempfile.gettempdir(), "waveshard-jobs")


def store_scope(environ: dict[str, str] | None = None) -> str:
    """A folder name for the S3 store this process talks to (its endpoint).

    The local backend keeps its jobs' state per store: job names come from
    fingerprints of S3 locations, which are the same on two stores (AWS and a
    local S3 server, or two test servers), and a job of one store must never be
    taken for a job of the other.
    """
    import os
    import re

    env = os.environ if environ is None else environ
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or "aws"
    return "store-" + re.sub(r"[^A-Za-z0-9.]+", "-", endpoint.split("://")[-1]).strip("-")


def make_backend(settings, boto_session: Any | None = None) -> Backend:
    """The backend ``settings.backend`` names.

    Args:
        settings: The run's :class:`~waveshard.runners.settings.ProcessingSettings`.
        boto_session: boto3 session for SageMaker calls (tests hook requests on it).
    """
    from pathlib import Path

    if settings.backend == "local":
        from waveshard.runners.local_backend import LocalBackend

        image = None
        if settings.isolation == "image":
            from kedro.utils import find_kedro_project

            from waveshard.runners.image_jobs import ImageJobs

            project = find_kedro_project(Path.cwd()) or Path.cwd()
            image = ImageJobs.open(settings.image_root, Path(project))
        base = Path(settings.local_work_dir or default_work_dir())
        return LocalBackend(work_dir=base / store_scope(), image=image)
    from waveshard.runners.sagemaker_backend import SageMakerBackend

    return SageMakerBackend(region=settings.region, boto_session=boto_session)

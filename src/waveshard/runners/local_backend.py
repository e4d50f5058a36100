"""Jobs on this machine, from the very requests SageMaker would get.

For each ``CreateProcessingJob`` request: stage every ProcessingInput (S3 prefix,
ManifestFile or local folder) into a job folder standing in for ``/opt/ml``, run
the request's ContainerEntrypoint + ContainerArguments with its Environment (and
of the driver's environment only the basics and its AWS access, which stands in
for the instance role) in a subprocess, and on success upload the
ProcessingOutputs. The one translation: every ``/opt/ml`` in the
arguments and environment becomes the job folder, and ``python``/``python3``
is this interpreter (the image's locked environment stands in for itself).
With an image (``isolation=image``, :mod:`waveshard.runners.image_jobs`) there is
no translation: the job runs inside the image's root file system.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waveshard.runners import storage
from waveshard.runners.backends import JobState
from waveshard.runners.job_spec import OPT_ML

if TYPE_CHECKING:
    from waveshard.runners.image_jobs import ImageJobs

#: Variables a container gets from its runtime rather than from the request.
_BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SYSTEMROOT")
#: The driver's AWS access, standing in for the instance role a SageMaker job reads
#: S3 with (streamed inputs); never part of the request.
_ROLE_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_EC2_METADATA_DISABLED",
)


class LocalBackend:
    """Runs Processing job requests as local subprocesses.

    Args:
        work_dir: Folder holding one sub-folder per job (kept after the run, with
            ``logs.txt`` and ``state.json``, so a re-submit can be described).
        python: Interpreter that replaces ``python``/``python3`` in the entrypoint.
        image: Run each job inside this image instead (``isolation=image``).
    """

    name = "local"

    def __init__(
        self, *, work_dir: Path, python: str = sys.executable, image: ImageJobs | None = None
    ) -> None:
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.python = python
        self.image = image
        self._procs: dict[str, subprocess.Popen] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._stopping: set[str] = set()
        self._lock = threading.Lock()

    def job_dir(self, job_name: str) -> Path:
        return self.work_dir / job_name

    def describe(self, job_name: str) -> JobState | None:
        path = self.job_dir(job_name) / "state.json"
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        state = JobState(
            status=data["status"],
            failure_reason=data.get("failure_reason"),
            exit_message=data.get("exit_message"),
            started=_time(data.get("started")),
            ended=_time(data.get("ended")),
        )
        if state.status == "InProgress" and job_name not in self._threads:
            # Started by a driver that is gone: nothing runs it any more.
            return JobState(
                "Failed",
                "The local driver that ran this job exited.",
                started=state.started,
                ended=state.started,
            )
        return state

    def create(self, request: dict[str, Any]) -> None:
        name = request["ProcessingJobName"]
        job_dir = self.job_dir(name)
        if job_dir.exists():
            shutil.rmtree(job_dir)
        job_dir.mkdir(parents=True)
        (job_dir / "request.json").write_text(json.dumps(request, indent=2))
        self._write(name, status="InProgress", started=_now())
        thread = threading.Thread(
            target=self._execute, args=(request,), daemon=True, name=f"job-{name}"
        )
        self._threads[name] = thread
        thread.start()

    def stop(self, job_name: str) -> None:
        with self._lock:
            self._stopping.add(job_name)
            proc = self._procs.get(job_name)
        if proc is not None and proc.poll() is None:
            if self.image is not None:
                # The job is pid 1 of its namespace, which ignores SIGTERM; killing the
                # namespace's parent ends every process in it (and its mounts).
                proc.kill()
            else:
                proc.terminate()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every job thread (tests and Ctrl-C cleanup)."""
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def log_link(self, job_name: str) -> str:
        return str(self.job_dir(job_name) / "logs.txt")

    def _opt_ml(self, job_dir: Path) -> Path:
        """The folder on this machine that is the job's ``/opt/ml``."""
        return self.image.opt_ml(job_dir) if self.image is not None else job_dir

    def _remap(self, text: str, job_dir: Path) -> str:
        return text.replace(OPT_ML, self._opt_ml(job_dir).as_posix())

    def _execute(self, request: dict[str, Any]) -> None:
        name = request["ProcessingJobName"]
        job_dir = self.job_dir(name)
        started = _now()
        try:
            for item in request.get("ProcessingInputs", []):
                s3 = item["S3Input"]
                local = Path(self._remap(s3["LocalPath"], job_dir))
                if s3.get("S3DataType") == "ManifestFile":
                    storage.download_manifest(s3["S3Uri"], local)
                else:
                    storage.download_prefix(s3["S3Uri"], local)
            for item in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
                Path(self._remap(item["S3Output"]["LocalPath"], job_dir)).mkdir(
                    parents=True, exist_ok=True
                )
            app = request["AppSpecification"]
            if self.image is not None:
                # The machine's tools that set up the namespace need PATH; the job
                # itself gets exactly the image's and the request's environment, and
                # the credentials that stand in for the instance role.
                env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
                role = {k: os.environ[k] for k in _ROLE_ENV if k in os.environ}
                command = self.image.command(
                    job_dir,
                    app.get("ContainerEntrypoint", []),
                    app.get("ContainerArguments", []),
                    {**role, **request.get("Environment", {})},
                )
            else:
                command = [
                    self._remap(a, job_dir)
                    for a in [
                        *app.get("ContainerEntrypoint", []),
                        *app.get("ContainerArguments", []),
                    ]
                ]
                if command and command[0] in ("python", "python3"):
                    command[0] = self.python
                env = {k: os.environ[k] for k in (*_BASE_ENV, *_ROLE_ENV) if k in os.environ}
                env.update(
                    {k: self._remap(v, job_dir) for k, v in request.get("Environment", {}).items()}
                )
            limit = request.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
            with (job_dir / "logs.txt").open("wb") as log:
                with self._lock:
                    if name in self._stopping:
                        raise _Stopped()
                    proc = subprocess.Popen(
                        command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=job_dir
                    )
                    self._procs[name] = proc
                try:
                    code = proc.wait(timeout=limit)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    self._write(
                        name,
                        status="Failed",
                        started=started,
                        ended=_now(),
                        failure_reason=f"MaxRuntimeExceeded: ran over {limit} s",
                    )
                    return
            if name in self._stopping:
                raise _Stopped()
            message_file = self._opt_ml(job_dir) / "output" / "message"
            message = message_file.read_text().strip() if message_file.is_file() else None
            if code != 0:
                reason = f"AlgorithmError: {message or f'exit code {code}'}"
                self._write(
                    name,
                    status="Failed",
                    started=started,
                    ended=_now(),
                    failure_reason=reason,
                    exit_message=message,
                )
                return
            for item in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
                s3 = item["S3Output"]
                storage.upload_folder(Path(self._remap(s3["LocalPath"], job_dir)), s3["S3Uri"])
            self._write(
                name, status="Completed", started=started, ended=_now(), exit_message=message
            )
        except _Stopped:
            self._write(
                name,
                status="Stopped",
                started=started,
                ended=_now(),
                failure_reason="Stopped on request",
            )
        except Exception as exc:
            self._write(
                name,
                status="Failed",
                started=started,
                ended=_now(),
                failure_reason=f"ClientError: {type(exc).__name__}: {exc}",
            )

    def _write(self, name: str, **state: Any) -> None:
        data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in state.items()}
        path = self.job_dir(name) / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)


class _Stopped(Exception):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

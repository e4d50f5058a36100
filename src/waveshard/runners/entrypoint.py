"""What a Processing job runs inside its container.

``python3 -m waveshard.runners.entrypoint ...`` (the project wheel is on
``PYTHONPATH``): unpack the shipped conf, read the job file (nodes, runtime
parameters, parts layout; from the ``job`` input channel), run the nodes in a
Kedro session of the container environment (which maps the catalog to
``/opt/ml/processing/{input,output}``, or to S3 for streamed inputs), then write
the completion marker as the last output. On failure, write a short reason to
``/opt/ml/output/message``, which SageMaker reports as the job's ExitMessage, and
exit non-zero.

Nothing but the outputs leaves a job: Kedro's telemetry plugin (kedro-telemetry,
a dependency of Kedro itself, so it is in the image) would send usage data from
every session. Its own switches turn it off: the request's environment sets
:data:`TELEMETRY_OFF`, the entrypoint sets them again for itself, and the
minimal project it writes holds a ``.telemetry`` file with ``consent: false``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tarfile
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger("waveshard.runners.entrypoint")
#: SageMaker keeps the first 1 KB of the message file.
MAX_MESSAGE = 1000
#: The environment variables kedro-telemetry honours (either one turns it off).
TELEMETRY_OFF = {"KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
#: kedro-telemetry's project-level switch, written into the job's project folder.
TELEMETRY_FILE = (".telemetry", "consent: false\n")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="waveshard.runners.entrypoint")
    parser.add_argument("--package", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--conf-source", required=True)
    parser.add_argument("--processing-root", required=True)
    parser.add_argument("--message-file", required=True)
    parser.add_argument("--marker", required=True)
    parser.add_argument("--fingerprint", required=True)
    parser.add_argument("--job-file", required=True)
    return parser.parse_args(argv)


def _unpack_conf(archive: Path, workdir: Path) -> Path:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(workdir, filter="data")
        else:  # Python < 3.11.4 has no extraction filters: refuse unsafe members ourselves
            for member in tar.getmembers():
                target = (workdir / member.name).resolve()
                if not (member.isfile() or member.isdir()) or not target.is_relative_to(
                    workdir.resolve()
                ):
                    raise ValueError(f"unsafe member in the conf archive: {member.name}")
            tar.extractall(workdir)  # every member was checked above
    # A minimal project root: Kedro and the pipeline registry look for it.
    package = os.environ.get("WAVESHARD_PACKAGE", "waveshard")
    (workdir / "pyproject.toml").write_text(
        f'[tool.kedro]\npackage_name = "{package}"\nproject_name = "{package}"\n'
        'kedro_init_version = "1.7.0"\n'
    )
    name, content = TELEMETRY_FILE
    (workdir / name).write_text(content)
    return workdir / "conf"


def _at_root(value, root: str):
    """``value`` with paths under ``/opt/ml/processing`` moved under ``root``.

    The job file names container paths (a partition's record list); the processing
    root is elsewhere when the local backend runs the job.
    """
    from waveshard.runners.job_spec import PROCESSING_ROOT

    if isinstance(value, dict):
        return {k: _at_root(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_at_root(v, root) for v in value]
    if isinstance(value, str) and value.startswith(PROCESSING_ROOT + "/"):
        return root + value[len(PROCESSING_ROOT) :]
    return value


#: Fault injection for the failure path's tests (forward it with forward_env).
FAIL_VARIABLE = "WAVESHARD_FAIL_NAMESPACES"


def run_job(args: argparse.Namespace) -> dict:
    """Run the job's nodes; return the completion marker (not yet written)."""
    if args.namespace in os.environ.get(FAIL_VARIABLE, "").split(","):
        raise RuntimeError(f"failure injected by {FAIL_VARIABLE}")
    from kedro.framework.project import configure_project, pipelines
    from kedro.framework.session import KedroSession
    from kedro.runner import SequentialRunner

    os.environ.update(TELEMETRY_OFF)  # also when a request was built without them
    from waveshard.runners.parts import PartsReadingRunner

    processing_root = Path(args.processing_root)
    job = json.loads(Path(args.job_file).read_text())
    workdir = Path(tempfile.mkdtemp(prefix="waveshard-job-"))
    os.environ["WAVESHARD_PACKAGE"] = args.package
    conf_dir = _unpack_conf(Path(args.conf_source), workdir)
    os.chdir(workdir)
    configure_project(args.package)
    params = {
        **_at_root(job["params"], processing_root.as_posix()),
        "processing_root": processing_root.as_posix(),
    }
    runner = PartsReadingRunner(job["parts"]) if job.get("parts") else SequentialRunner()
    started = time.perf_counter()
    with KedroSession.create(
        project_path=workdir, conf_source=str(conf_dir), env=args.env, runtime_params=params
    ) as session:
        session.run(pipeline_names=sorted(pipelines.keys()), node_names=job["nodes"], runner=runner)
    seconds = time.perf_counter() - started
    return {
        "fingerprint": args.fingerprint,
        "namespace": job["namespace"],
        "partition": job.get("partition"),
        "nodes": job["nodes"],
        "seconds": round(seconds, 3),
        "input_bytes": job.get("input_bytes", 0),
        # Whose timings these are: estimates use only rates of the same backend,
        # instance type and input mode.
        "backend": os.environ.get("WAVESHARD_BACKEND", ""),
        "instance_type": os.environ.get("WAVESHARD_INSTANCE_TYPE", ""),
        "input_mode": job.get("input_mode", ""),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        marker = run_job(args)
        out = Path(args.processing_root) / "output"
        out.mkdir(parents=True, exist_ok=True)
        # Written last: its presence means every other output of the job is there.
        (out / args.marker).write_text(json.dumps(marker, indent=2))
        logger.info("Job %s done in %.1f s.", args.namespace, marker["seconds"])
        return 0
    except BaseException as exc:
        traceback.print_exc()
        reason = f"{args.namespace}: {type(exc).__name__}: {exc}".replace("\n", " ")
        message = Path(args.message_file)
        message.parent.mkdir(parents=True, exist_ok=True)
        message.write_text(reason[:MAX_MESSAGE])
        return 1


if __name__ == "__main__":
    sys.exit(main())

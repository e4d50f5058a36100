"""Nothing but the outputs leaves a job: Kedro telemetry is off in every job.

kedro-telemetry is a dependency of Kedro itself, so the job image has it, and
its hook sends usage data from every Kedro session unless told not to. These
tests check the job request, the job's project folder, and a real job run with
every network attempt of the process audited.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from importlib import metadata
from pathlib import Path

import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro_telemetry import plugin as telemetry

from tests.support.paths import PROJECT_ROOT, SAMPLE_RAW
from waveshard.runners.entrypoint import TELEMETRY_OFF, _unpack_conf, run_job
from waveshard.runners.job_spec import JOB_FILE, JobSpec, build_request, job_files
from waveshard.runners.packaging import build_conf_archive
from waveshard.runners.settings import ProcessingSettings

SPEC = JobSpec(
    namespace="group_30",
    nodes=("group_30.discover",),
    inputs=(),
    output_uri="s3://out/w/02_intermediate/groups/30",
    outputs={"group_30.segment_index": "segment_index.parquet"},
    fingerprint="0" * 64,
)


def test_kedro_telemetry_ships_with_kedro_itself() -> None:
    """Why the switches matter: the plugin is a runtime dependency, in every image."""
    requires = metadata.requires("kedro") or []
    assert any(r.startswith("kedro-telemetry") for r in requires)
    assert set(TELEMETRY_OFF) == set(telemetry._SKIP_TELEMETRY_ENV_VAR_KEYS)


def test_every_job_request_turns_telemetry_off_whatever_is_forwarded() -> None:
    settings = ProcessingSettings.from_sources(
        {"environment": {"DO_NOT_TRACK": "", "KEDRO_DISABLE_TELEMETRY": "0"}}
    )
    request = build_request(
        SPEC,
        settings,
        name="ws-group-30-x-1",
        package="waveshard",
        code_uri="s3://out/_code/abc",
        job_uri="s3://out/_jobs/group_30/abc",
        wheel="w.whl",
        conf_archive="conf.tar.gz",
        environment={"KEDRO_DISABLE_TELEMETRY": ""},
    )
    environment = request["Environment"]
    assert {k: environment[k] for k in TELEMETRY_OFF} == TELEMETRY_OFF


def test_the_job_project_folder_withholds_consent(tmp_path: Path, monkeypatch) -> None:
    for variable in TELEMETRY_OFF:
        monkeypatch.delenv(variable, raising=False)
    name, archive = build_conf_archive(PROJECT_ROOT / "conf", ["base", "container"], "waveshard")
    (tmp_path / name).write_bytes(archive)
    workdir = tmp_path / "job"
    workdir.mkdir()
    _unpack_conf(tmp_path / name, workdir)
    assert (workdir / ".telemetry").read_text() == "consent: false\n"
    # kedro-telemetry's own reading of the folder, without any environment variable:
    assert telemetry._check_for_telemetry_consent(workdir) is False
    assert telemetry._check_for_telemetry_consent(tmp_path) is None  # implicit consent


class NetworkAudit:
    """Every address the process tries to resolve or connect to, from audit events."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.active = False

    def __call__(self, event: str, args: tuple) -> None:
        if self.active and event in ("socket.getaddrinfo", "socket.connect"):
            self.attempts.append(f"{event} {args[0] if event != 'socket.connect' else args[1]}")


_AUDIT = NetworkAudit()
sys.addaudithook(_AUDIT)


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Events kedro-telemetry would send (recorded here instead of sent)."""
    calls: list[str] = []
    monkeypatch.setattr(
        telemetry, "_send_heap_event", lambda event_name, **_: calls.append(event_name)
    )
    for variable in TELEMETRY_OFF:
        monkeypatch.setenv(variable, "")  # restored (absent) after the test
    monkeypatch.delenv("GITHUB_REPOSITORY_OWNER", raising=False)
    return calls


def _minimal_project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "waveshard"\nproject_name = "waveshard"\n'
        'kedro_init_version = "1.7.0"\n'
    )
    return folder


def test_control_a_session_without_the_switches_would_send(tmp_path, monkeypatch, sent) -> None:
    """The check below can fail: the same kind of session, switches off, tries to send."""
    project = _minimal_project(tmp_path / "project")
    monkeypatch.chdir(project)
    configure_project("waveshard")
    with KedroSession.create(
        project_path=project, conf_source=str(PROJECT_ROOT / "conf"), env="local"
    ) as session:
        session.load_context().catalog  # noqa: B018 - creating the catalog fires the hook
    assert sent == ["Kedro Project Statistics"]


def test_a_job_run_makes_no_network_attempt(tmp_path, monkeypatch, sent) -> None:
    """A real job (discover → report of group 30) run by the entrypoint, every socket audited."""
    name, archive = build_conf_archive(PROJECT_ROOT / "conf", ["base", "container"], "waveshard")
    code = tmp_path / "code"
    code.mkdir()
    (code / name).write_bytes(archive)
    root = tmp_path / "processing"
    (root / "input").mkdir(parents=True)
    shutil.copytree(SAMPLE_RAW / "30", root / "input" / "raw_records")
    nodes = tuple(
        f"group_30.{n}"
        for n in ("discover", "plan_shards", "extract", "summarize_records", "report_group")
    )
    spec = JobSpec(
        namespace="group_30",
        nodes=nodes,
        inputs=(),
        output_uri="s3://out/w/02_intermediate/groups/30",
        fingerprint="0" * 64,
        params={"groups": "30"},
    )
    job_file = tmp_path / JOB_FILE
    job_file.write_text(job_files(spec, input_bytes=0, input_mode="file")[JOB_FILE])
    args = argparse.Namespace(
        package="waveshard",
        env="container",
        namespace="group_30",
        conf_source=str(code / name),
        processing_root=str(root),
        message_file=str(tmp_path / "message"),
        marker="_complete.json",
        fingerprint="0" * 64,
        job_file=str(job_file),
    )
    monkeypatch.chdir(tmp_path)  # the entrypoint moves into its project folder; undone after
    _AUDIT.attempts.clear()
    _AUDIT.active = True
    try:
        marker = run_job(args)
    finally:
        _AUDIT.active = False
    assert marker["namespace"] == "group_30"
    assert (root / "output" / "segment_features.parquet").is_file()
    assert sent == []
    assert [a for a in _AUDIT.attempts if "127.0.0.1" not in a and "localhost" not in a] == []
    assert all(os.environ[k] == v for k, v in TELEMETRY_OFF.items())

"""The job image's build plan and its guards (no root, no build: fast).

The rootfs build executes the Dockerfile itself (waveshard.runners.dockerfile), so the
Dockerfile and the image built without Docker share one list of steps; these tests pin
what that list must hold and that anything the build cannot reproduce stops it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_ROOT
from waveshard.runners import dockerfile, isolation, rootfs
from waveshard.runners.dockerfile import Copy, DockerfileError, Run
from waveshard.runners.image_jobs import ImageJobs
from waveshard.runners.settings import ProcessingSettings, SettingsError


def test_the_project_dockerfile_is_a_debian_release_with_exact_runtime_dependencies() -> None:
    plan = rootfs.plan_of(PROJECT_ROOT)
    assert plan.release == "bookworm"
    commands = [" ".join(s.argv) for s in plan.steps if isinstance(s, Run)]
    assert any("uv sync --frozen --no-dev --no-install-project" in c for c in commands)
    assert plan.copied_files() == ["pyproject.toml", "uv.lock"]
    assert [s.destination for s in plan.steps if isinstance(s, Copy)] == ["/opt/waveshard/"]
    assert plan.workdir == "/opt/waveshard"
    assert plan.entrypoint == ("python3",)
    # the venv first, then Debian's PATH (ENV PATH=/opt/venv/bin:$PATH)
    assert plan.env["PATH"] == "/opt/venv/bin:" + dockerfile.DEBIAN_BASE_ENV["PATH"]
    assert plan.env["UV_PROJECT_ENVIRONMENT"] == "/opt/venv"
    assert plan.env["UV_PYTHON_DOWNLOADS"] == "never"


def test_env_expands_against_the_environment_before_the_instruction() -> None:
    plan = dockerfile.parse("FROM debian:bookworm-slim\nENV A=1\nENV A=2 B=$A C=${A}x \\\n  D=\n")
    assert plan.env | {"PATH": ""} == {"PATH": "", "A": "2", "B": "1", "C": "1x", "D": ""}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("FROM python:3.11-slim\n", "debian:<release>-slim"),
        ("FROM debian:bookworm-slim\nUSER nobody\n", "line 2 (USER)"),
        ("FROM debian:bookworm-slim\nCOPY src/*.py /app/\n", "no globs"),
        ("FROM debian:bookworm-slim\nCOPY --chown=1 a /a\n", "no flags"),
        ("FROM debian:bookworm-slim\nENTRYPOINT python3 -m x\n", "exec form"),
        ("ENV A=1\n", "first instruction must be FROM"),
    ],
)
def test_what_the_build_cannot_reproduce_stops_it(text: str, named: str) -> None:
    with pytest.raises(DockerfileError, match=re.escape(named)):
        dockerfile.parse(text)


def _project_copy(tmp_path: Path) -> Path:
    for name in ("Dockerfile", "pyproject.toml", "uv.lock"):
        shutil.copyfile(PROJECT_ROOT / name, tmp_path / name)
    return tmp_path


def test_the_cache_key_follows_the_dockerfile_and_the_lock(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    key = rootfs.image_key(project)
    assert key == rootfs.image_key(PROJECT_ROOT)
    (project / "uv.lock").write_text((project / "uv.lock").read_text() + "\n")
    changed_lock = rootfs.image_key(project)
    (project / "Dockerfile").write_text((project / "Dockerfile").read_text() + "RUN true\n")
    assert len({key, changed_lock, rootfs.image_key(project)}) == 3


def test_a_missing_image_names_the_build_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(rootfs.CACHE_ENV, str(tmp_path / "cache"))
    project = _project_copy(tmp_path)
    with pytest.raises(rootfs.ImageMissing, match=re.escape(rootfs.BUILD_COMMAND)):
        ImageJobs.open(None, project)
    with pytest.raises(rootfs.ImageMissing, match="No built image in"):
        ImageJobs.open(str(tmp_path / "nowhere"), project)


def test_a_job_gets_the_image_environment_under_the_request_one() -> None:
    image = rootfs.Image(
        folder=Path("/x"),
        root=Path("/x/rootfs"),
        env={"PATH": "/opt/venv/bin:/usr/bin", "PYTHONUNBUFFERED": "1"},
        workdir="/opt/waveshard",
        entrypoint=("python3",),
        key="k",
    )
    env = image.container_env({"PYTHONPATH": "/opt/ml/processing/input/code/w.whl", "HOME": "/h"})
    assert env == {
        "HOME": "/h",
        "PATH": "/opt/venv/bin:/usr/bin",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": "/opt/ml/processing/input/code/w.whl",
    }


def test_the_namespace_script_quotes_every_value(tmp_path: Path) -> None:
    overlay = isolation.Overlay(
        lower=tmp_path / "lower dir",
        upper=tmp_path / "up",
        work=tmp_path / "w",
        mountpoint=tmp_path / "m",
    )
    argv = isolation.chroot_command(
        ["python3", "-c", "print('$HOME; `x`')"],
        overlay=overlay,
        env={"A": "it's $PATH; rm -rf /", "B": 'say "hi"'},
        workdir="/opt/waveshard",
        binds=[isolation.Bind(tmp_path, "/mnt/in side")],
    )
    assert argv[:8] == [
        "unshare", "--mount", "--propagation", "private", "--pid", "--fork",
        "--kill-child=SIGKILL", "sh",
    ]  # fmt: skip
    script = argv[-1]
    assert subprocess.run(["sh", "-n", "-c", script], check=False).returncode == 0
    assert "'A=it'\"'\"'s $PATH; rm -rf /'" in script
    (tmp_path / "lower dir" / "etc").mkdir(parents=True)
    (tmp_path / "lower dir" / "etc" / "resolv.conf").symlink_to("/run/elsewhere")
    with pytest.raises(isolation.IsolationError, match="symbolic link"):
        isolation.chroot_command(
            ["true"], overlay=overlay, env={}, binds=[isolation.Bind(tmp_path, "/etc/resolv.conf")]
        )
    with pytest.raises(isolation.IsolationError, match="','"):
        isolation.chroot_command(
            ["true"],
            overlay=isolation.Overlay(
                lower=Path("/a,b"), upper=tmp_path, work=tmp_path, mountpoint=tmp_path
            ),
            env={},
        )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"backend": "local", "isolation": "docker"}, "isolation='docker' is not supported"),
        ({"backend": "sagemaker", "isolation": "image"}, "backend=local only"),
    ],
)
def test_isolation_settings_are_checked(values: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ProcessingSettings.from_sources(values)
    assert ProcessingSettings.from_sources({"backend": "local"}).isolation == "none"

"""The job image for tests: the project's built image, broken variants of it, a patched project.

The image is built once (``python -m waveshard.runners.rootfs build``, which ``.ci/run``
runs before the suite) and cached; if it is not built, :func:`built_image` builds it,
and fails the test with the build command if that is impossible here (never skips).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_ROOT
from waveshard.runners import isolation, rootfs

#: The Dockerfile's dependency step, without its import check (a variant must reach the job).
SYNC = ["uv", "sync", "--frozen", "--no-dev", "--no-install-project", "--no-cache"]


def built_image() -> rootfs.Image:
    """This project's image, built now if the cache does not have it."""
    try:
        return rootfs.find(PROJECT_ROOT)
    except rootfs.ImageMissing:
        pass
    try:
        return rootfs.build(PROJECT_ROOT)
    except Exception as exc:
        pytest.fail(
            f"The job image is not built and cannot be built here ({exc}). Build it as root "
            f"with `apt-get install -y debootstrap && {rootfs.BUILD_COMMAND}`.",
            pytrace=False,
        )


def move_to_dev_group(pyproject: str, requirement: str) -> str:
    """``pyproject.toml`` text with ``requirement`` moved from the dependencies to dev."""
    line = f'    "{requirement}",\n'
    if pyproject.count(line) != 1 or "dev = [\n" not in pyproject:
        raise AssertionError(f"{requirement} is not one line of pyproject.toml's dependencies")
    return pyproject.replace(line, "", 1).replace("dev = [\n", "dev = [\n" + line, 1)


def image_with_dependency_in_dev_group(base: rootfs.Image, requirement: str, tmp: Path) -> Path:
    """A variant of ``base`` built from a lock where ``requirement`` is a dev dependency.

    The project's pyproject.toml with the requirement moved to the dev group is re-locked
    (``uv lock --offline``), then the Dockerfile's ``uv sync`` step runs with that
    pyproject/lock in a hard-linked copy of the image (which that step only adds files
    to or unlinks from: the cached image's files are never written).

    Returns:
        The variant's folder, usable as ``image_root``.
    """
    project = tmp / "locked"
    project.mkdir()
    pyproject = move_to_dev_group((PROJECT_ROOT / "pyproject.toml").read_text(), requirement)
    (project / "pyproject.toml").write_text(pyproject)
    shutil.copyfile(PROJECT_ROOT / "uv.lock", project / "uv.lock")
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH"
    subprocess.run([uv, "lock", "--offline", "--quiet"], cwd=project, check=True)
    folder = tmp / "variant-image"
    folder.mkdir()
    subprocess.run(["cp", "-al", str(base.root), str(folder / "rootfs")], check=True)
    shutil.copyfile(base.folder / "image.json", folder / "image.json")
    workdir = folder / "rootfs" / base.workdir.lstrip("/")
    for name in ("pyproject.toml", "uv.lock"):
        (workdir / name).unlink()  # a hard link into the cached image: replace, never write
        shutil.copyfile(project / name, workdir / name)
    synced = subprocess.run(
        isolation.chroot_command(
            SYNC, root=folder / "rootfs", env=base.container_env({}), workdir=base.workdir
        ),
        check=False,
        capture_output=True,
        text=True,
    )
    assert synced.returncode == 0, synced.stdout[-2000:] + synced.stderr[-2000:]
    return folder


def venv_packages(root: Path) -> set[str]:
    """Distribution names installed in an image's ``/opt/venv``."""
    return {
        p.name.split("-")[0].lower()
        for p in root.glob("opt/venv/lib/python*/site-packages/*.dist-info")
    }


def patched_project(tmp: Path, code: str) -> Path:
    """A copy of the project whose ``pipeline_registry.py`` ends with ``code``.

    The registry is imported by the driver and by every job, so the code runs in both.
    """
    project = tmp / "project"
    project.mkdir()
    for name in ("pyproject.toml", "uv.lock", "Dockerfile", ".telemetry"):
        shutil.copyfile(PROJECT_ROOT / name, project / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "credentials*")
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf", ignore=ignore)
    shutil.copytree(PROJECT_ROOT / "src", project / "src", ignore=ignore)
    registry = project / "src" / "waveshard" / "pipeline_registry.py"
    registry.write_text(registry.read_text() + "\n" + code + "\n")
    return project


def image_config(folder: Path) -> dict:
    return json.loads((folder / "image.json").read_text())

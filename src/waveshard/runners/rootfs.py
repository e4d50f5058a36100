"""Build the project's job image as a root file system, without a Docker daemon.

``uv run python -m waveshard.runners.rootfs build`` (as root, with ``debootstrap``):

1. ``debootstrap --variant=minbase <release>`` — the Debian release of the
   Dockerfile's ``FROM debian:<release>-slim``, from Debian's package archive
   (``WAVESHARD_DEBIAN_MIRROR`` overrides debootstrap's default mirror), with the apt
   sources of Debian's official image (the release, its updates and security suites);
2. the Dockerfile's own instructions, read by :mod:`waveshard.runners.dockerfile`:
   ``ENV``, ``WORKDIR``, ``COPY`` from the project folder, each ``RUN`` inside the root
   (:func:`waveshard.runners.isolation.chroot_command`) with the environment Docker
   would give it;
3. the image's configuration (environment, working directory, entrypoint) in
   ``image.json`` and the installed Debian and Python packages in ``manifest.txt``.

The result is cached in ``<cache>/<key>/`` (``<cache>`` is ``WAVESHARD_IMAGE_CACHE`` or
``build/image/`` of the project, which git ignores), the key hashing the Dockerfile,
every file it copies (``pyproject.toml``, ``uv.lock``) and this build's own code, so an
unchanged project finds its image at once and any change builds a new one.

Only during the build, the machine's CA bundle (``WAVESHARD_BUILD_CA_FILE``, default
Debian's ``/etc/ssl/certs/ca-certificates.crt``) is bind-mounted read-only and named by
``SSL_CERT_FILE``/``PIP_CERT``, and the machine's ``/etc/resolv.conf`` is visible, so the
steps reach the package registries through this machine's network; neither stays in
the image (``docker build`` likewise gives ``RUN`` the daemon's DNS).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from waveshard.runners import dockerfile, isolation
from waveshard.runners.dockerfile import Copy, Env, ImagePlan, Run, Workdir

CACHE_ENV = "WAVESHARD_IMAGE_CACHE"
MIRROR_ENV = "WAVESHARD_DEBIAN_MIRROR"
CA_ENV = "WAVESHARD_BUILD_CA_FILE"
DEFAULT_CA = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_COMMAND = "uv run python -m waveshard.runners.rootfs build"
#: Where the build-time CA bundle is visible inside the root while a step runs.
_CA_INSIDE = "/run/waveshard-build-ca.crt"
#: Docker gives a root container HOME=/root unless the image sets it.
_DOCKER_RUNTIME_ENV = {"HOME": "/root"}


class ImageMissing(RuntimeError):
    """No image built for this project's Dockerfile and lock; the message names the command."""


@dataclass(frozen=True)
class Image:
    """A built image: its root file system and what ``docker inspect`` would call its config.

    Attributes:
        folder: ``<cache>/<key>``.
        root: The root file system (``<folder>/rootfs``).
        env: The image's environment (from the base image and every ``ENV``).
        workdir: The container's working directory.
        entrypoint: The image's entrypoint.
        key: Hash of what the image was built from.
    """

    folder: Path
    root: Path
    env: dict[str, str]
    workdir: str
    entrypoint: tuple[str, ...]
    key: str

    @classmethod
    def open(cls, folder: Path) -> Image:
        """The image built in ``folder``.

        Raises:
            ImageMissing: ``folder`` holds no finished build.
        """
        folder = Path(folder)
        config_file = folder / "image.json"
        if not config_file.is_file() or not (folder / "rootfs").is_dir():
            raise ImageMissing(
                f"No built image in {folder}: build it with `{BUILD_COMMAND}` (root, "
                "debootstrap; see docs/sagemaker.md)."
            )
        config = json.loads(config_file.read_text())
        return cls(
            folder=folder,
            root=folder / "rootfs",
            env=dict(config["env"]),
            workdir=config["workdir"],
            entrypoint=tuple(config["entrypoint"]),
            key=config["key"],
        )

    def container_env(self, request_env: dict[str, str]) -> dict[str, str]:
        """A job's environment: the image's, Docker's runtime defaults, then the request's."""
        return {**_DOCKER_RUNTIME_ENV, **self.env, **request_env}


def plan_of(project: Path) -> ImagePlan:
    """The project's Dockerfile, read."""
    path = Path(project) / "Dockerfile"
    if not path.is_file():
        raise ImageMissing(f"No Dockerfile in {project}.")
    return dockerfile.read(path)


def image_key(project: Path, plan: ImagePlan | None = None) -> str:
    """Hash of the Dockerfile, the files it copies and this build's code."""
    project = Path(project)
    plan = plan or plan_of(project)
    digest = hashlib.sha256()
    parts = [
        ("Dockerfile", project / "Dockerfile"),
        *((name, project / name) for name in plan.copied_files()),
        ("builder:rootfs", Path(__file__)),
        ("builder:dockerfile", Path(dockerfile.__file__)),
        ("builder:isolation", Path(isolation.__file__)),
    ]
    for name, path in parts:
        if not path.is_file():
            raise ImageMissing(f"The Dockerfile copies {name}, which is not in {project}.")
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def cache_dir(project: Path) -> Path:
    """Folder of built images: ``WAVESHARD_IMAGE_CACHE`` or the project's ``build/image``."""
    return Path(os.environ.get(CACHE_ENV) or Path(project) / "build" / "image")


def image_dir(project: Path) -> Path:
    """Where the image of the project's current Dockerfile and lock is (or would be) built."""
    return cache_dir(project) / image_key(project)


def find(project: Path) -> Image:
    """The built image of the project's current Dockerfile and lock.

    Raises:
        ImageMissing: It has not been built; the message names the build command.
    """
    folder = image_dir(project)
    try:
        return Image.open(folder)
    except ImageMissing:
        raise ImageMissing(
            f"The job image of this project (Dockerfile + pyproject.toml + uv.lock, key "
            f"{folder.name}) is not built: run `{BUILD_COMMAND}` in {project} (root, "
            "debootstrap; a few minutes once, then cached in "
            f"{folder.parent}), or pass image_root=<folder of a built image>."
        ) from None


def build(project: Path, *, log: Callable[[str], None] = print) -> Image:
    """Build the project's image unless the cache has it; return it.

    Args:
        project: Folder with the Dockerfile and the files it copies.
        log: Receives one line per stage (and the steps' output goes to stdout).
    """
    project = Path(project).resolve()
    plan = plan_of(project)
    key = image_key(project, plan)
    cache = cache_dir(project)
    folder = cache / key
    if (folder / "image.json").is_file():
        log(f"Image {key} is built: {folder}")
        return Image.open(folder)
    isolation.check_machine()
    if shutil.which("debootstrap") is None:
        raise isolation.IsolationError(
            "debootstrap is missing: apt-get install -y debootstrap (Debian's package)."
        )
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; a waiter then finds it built
        if (folder / "image.json").is_file():
            return Image.open(folder)
        partial = cache / f"{key}.partial"
        _remove(partial)
        started = time.perf_counter()
        try:
            _build_into(project, plan, partial / "rootfs", log)
            _write_config(partial, plan, key)
        except BaseException:
            _remove(partial)
            raise
        partial.rename(folder)
        log(f"Image {key} built in {time.perf_counter() - started:.0f} s: {folder}")
    return Image.open(folder)


def _build_into(project: Path, plan: ImagePlan, root: Path, log: Callable[[str], None]) -> None:
    root.parent.mkdir(parents=True)
    started = time.perf_counter()
    mirror = os.environ.get(MIRROR_ENV)
    log(f"debootstrap --variant=minbase {plan.release} ...")
    _check_call(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "debootstrap",
            "--variant=minbase",
            plan.release,
            str(root),
            *([mirror] if mirror else []),
        ]
    )
    _official_apt_sources(root, plan.release)
    log(f"debootstrap done in {time.perf_counter() - started:.0f} s")
    env = dict(dockerfile.DEBIAN_BASE_ENV)
    workdir = "/"
    ca_file = Path(os.environ.get(CA_ENV) or DEFAULT_CA)
    for step in plan.steps:
        if isinstance(step, Env):
            env.update(step.values)
        elif isinstance(step, Workdir):
            workdir = step.path
            (root / workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
        elif isinstance(step, Copy):
            _copy(project, root, step)
        elif isinstance(step, Run):
            shell_form = step.argv[:2] == ("/bin/sh", "-c")
            log(f"RUN {' '.join(step.argv[2:] if shell_form else step.argv)}")
            started = time.perf_counter()
            binds = [isolation.Bind(Path("/etc/resolv.conf"), "/etc/resolv.conf")]
            run_env = {**_DOCKER_RUNTIME_ENV, **env}
            if ca_file.is_file():
                binds.append(isolation.Bind(ca_file, _CA_INSIDE))
                run_env |= {"SSL_CERT_FILE": _CA_INSIDE, "PIP_CERT": _CA_INSIDE}
            _check_call(
                isolation.chroot_command(
                    step.argv, root=root, env=run_env, workdir=workdir, binds=binds
                )
            )
            log(f"  done in {time.perf_counter() - started:.0f} s")
    # What only the build needed: the bind targets and the machine's DNS servers.
    (root / _CA_INSIDE.lstrip("/")).unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text("")
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True)


def _official_apt_sources(root: Path, release: str) -> None:
    """Apt sources as in Debian's official image: the release, -updates, -security."""
    legacy = root / "etc/apt/sources.list"
    words = legacy.read_text().split()
    mirror = words[1]  # debootstrap writes "deb <mirror> <release> main"
    stanzas = [
        f"Types: deb\nURIs: {mirror}\nSuites: {release} {release}-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    ]
    if mirror.rstrip("/").endswith("/debian"):
        stanzas.append(
            f"Types: deb\nURIs: {mirror.rstrip('/')}-security\nSuites: {release}-security\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        )
    (root / "etc/apt/sources.list.d/debian.sources").write_text("\n".join(stanzas))
    legacy.unlink()


def _copy(project: Path, root: Path, step: Copy) -> None:
    inside = root / step.destination.lstrip("/")
    into_folder = step.destination.endswith("/") or len(step.sources) > 1
    for source in step.sources:
        path = project / source
        target = inside / path.name if into_folder else inside
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            shutil.copy2(path, target)


def _write_config(folder: Path, plan: ImagePlan, key: str) -> None:
    root = folder / "rootfs"
    config = {
        "key": key,
        "base": f"debian:{plan.release}-slim (debootstrap --variant=minbase {plan.release})",
        "env": plan.env,
        "workdir": plan.workdir,
        "entrypoint": list(plan.entrypoint),
    }
    debs = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f", "${Package} ${Version}\\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wheels = sorted(
        p.name.removesuffix(".dist-info")
        for p in root.glob("opt/venv/lib/python*/site-packages/*.dist-info")
    )
    (folder / "manifest.txt").write_text(
        f"# Debian packages ({plan.release})\n{debs}\n# /opt/venv\n" + "\n".join(wheels) + "\n"
    )
    (folder / "image.json").write_text(json.dumps(config, indent=2) + "\n")


def _check_call(argv: list[str]) -> None:
    sys.stdout.flush()
    result = subprocess.run(argv, check=False, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        shown = argv[:8] if argv[0] == "unshare" and argv[-2] == "-c" else argv
        raise RuntimeError(
            f"Image build step failed (exit {result.returncode}): {' '.join(shown)} …; "
            "its output is above."
        )


def _remove(folder: Path) -> None:
    """Delete a build folder, refusing if anything is still mounted below it."""
    if not folder.exists():
        return
    mounted = isolation.mounts_under(folder)
    if mounted:
        raise RuntimeError(f"Not deleting {folder}: still mounted at {mounted}.")
    shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m waveshard.runners.rootfs",
        description="Build (or find) the job image's root file system without Docker.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("build", "build the image unless it is cached; print its folder"),
        ("path", "print the folder of this project's image (built or not)"),
        ("prune", "delete every image in the cache but this project's current one"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    if args.command == "path":
        print(image_dir(args.project))
        return 0
    if args.command == "prune":
        keep = image_dir(args.project)
        for folder in sorted(keep.parent.glob("*")):
            if folder.is_dir() and folder != keep:
                _remove(folder)
                print(f"deleted {folder}")
        return 0
    try:
        image = build(args.project, log=lambda line: print(f"[image] {line}", flush=True))
    except (
        ImageMissing,
        isolation.IsolationError,
        dockerfile.DockerfileError,
        RuntimeError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(image.folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())

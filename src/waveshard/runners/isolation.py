"""Run a command inside a root file system the way a container runtime would.

One process tree per command, started as ``unshare --mount --pid --fork`` (root only):
in its private mount namespace it mounts the root (optionally as an overlay with a
writable layer of its own, like a container's), a fresh ``/proc``, a read-only
``/sys``, a minimal ``/dev`` with ``/dev/shm``, and any read-only bind mounts, then
``chroot``s and executes the command with exactly the environment given. Every mount
exists only in that namespace, so all of them vanish with its last process — a
crashed or killed command cannot leave a mount behind on the machine. The network
namespace is the machine's: loopback services (moto's S3 on 127.0.0.1) stay reachable.

This is not a security boundary (root in a chroot can leave it); it reproduces what a
job can see: the image's files, its environment, ``/opt/ml``.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Device nodes a container gets (bind-mounted from the machine's /dev).
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
#: Tools of the machine the namespace is set up with (util-linux, coreutils).
REQUIRED_TOOLS = ("unshare", "mount", "chroot", "sh")


class IsolationError(RuntimeError):
    """This machine cannot run a command inside a root file system; the message says why."""


@dataclass(frozen=True)
class Overlay:
    """The root as an overlay: ``lower`` read-only, writes land in ``upper``.

    Attributes:
        lower: The image's root file system (never modified).
        upper: The command's writable layer (what a container's layer holds).
        work: overlayfs' work folder, on the same file system as ``upper``.
        mountpoint: Empty folder the merged root is mounted on.
    """

    lower: Path
    upper: Path
    work: Path
    mountpoint: Path


@dataclass(frozen=True)
class Bind:
    """A file or folder of the machine visible read-only at ``inside`` (absolute, in the root)."""

    source: Path
    inside: str


def check_machine() -> None:
    """Raise :class:`IsolationError` unless this process can build namespaces and chroot."""
    if os.name != "posix" or os.geteuid() != 0:
        raise IsolationError(
            "isolation=image and the image build need root (mount namespaces, chroot): "
            "run as root, or use isolation=none."
        )
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise IsolationError(
            f"Missing {', '.join(missing)}: install util-linux and coreutils "
            "(apt-get install -y util-linux coreutils)."
        )


def chroot_command(
    argv: Sequence[str],
    *,
    root: Path | None = None,
    overlay: Overlay | None = None,
    env: Mapping[str, str],
    workdir: str = "/",
    binds: Sequence[Bind] = (),
) -> list[str]:
    """The command line that runs ``argv`` inside a root file system.

    Args:
        argv: Command and arguments, resolved with ``env``'s ``PATH`` inside the root.
        root: Root file system used directly (writes go into it: image builds).
        overlay: Root file system under a writable layer (jobs); exactly one of
            ``root`` and ``overlay``.
        env: The command's whole environment (nothing of this process's is passed on).
        workdir: Working directory inside the root.
        binds: Read-only bind mounts, present only while the command runs.

    Returns:
        An argv for :class:`subprocess.Popen`; killing that process (SIGKILL) ends
        every process of the command and with them every mount.
    """
    if (root is None) == (overlay is None):
        raise ValueError("give exactly one of root and overlay")
    target = overlay.mountpoint if overlay is not None else root
    lines = ["set -eu", f"r={shlex.quote(str(target))}"]
    if overlay is not None:
        for path in (overlay.lower, overlay.upper, overlay.work):
            if any(c in str(path) for c in ",:"):
                raise IsolationError(f"overlayfs cannot use a path with ',' or ':': {path}")
        options = f"lowerdir={overlay.lower},upperdir={overlay.upper},workdir={overlay.work}"
        lines.append(f'mount -t overlay overlay -o {shlex.quote(options)} "$r"')
    lines += [
        'mount -t proc proc "$r/proc"',
        'mount -t sysfs -o ro sysfs "$r/sys"',
        'mount -t tmpfs -o mode=755,nosuid tmpfs "$r/dev"',
    ]
    for device in _DEVICES:
        if Path("/dev", device).exists():
            lines.append(f': > "$r/dev/{device}"; mount --bind /dev/{device} "$r/dev/{device}"')
    lines += [
        'mkdir "$r/dev/shm" "$r/dev/pts"',
        'mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/dev/shm"',
        'ln -s /proc/self/fd "$r/dev/fd"',
        'ln -s /proc/self/fd/0 "$r/dev/stdin"',
        'ln -s /proc/self/fd/1 "$r/dev/stdout"',
        'ln -s /proc/self/fd/2 "$r/dev/stderr"',
    ]
    base = overlay.lower if overlay is not None else root
    for bind in binds:
        inside = bind.inside
        if not inside.startswith("/"):
            raise ValueError(f"bind target must be absolute: {inside}")
        _refuse_symlinks(base, inside)
        where = f'"$r"{shlex.quote(inside)}'
        make = f"mkdir -p {where}" if bind.source.is_dir() else f": > {where}"
        lines.append(
            f"{make}; mount --bind {shlex.quote(str(bind.source))} {where}; "
            f"mount -o remount,bind,ro {where}"
        )
    assignments = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
    for key in env:
        if not key or "=" in key:
            raise ValueError(f"invalid environment variable name {key!r}")
    command = " ".join(shlex.quote(a) for a in argv)
    lines.append(
        f'exec chroot "$r" /usr/bin/env -i -C {shlex.quote(workdir)} {assignments} {command}'
    )
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child=SIGKILL",
        "sh",
        "-c",
        "\n".join(lines),
    ]


def _refuse_symlinks(root: Path, inside: str) -> None:
    """A bind target is created and mounted before the chroot: a symlink on its way would
    resolve on this machine, not in the root."""
    path = root
    for part in Path(inside).parts[1:]:
        path = path / part
        if path.is_symlink():
            raise IsolationError(f"Cannot bind-mount at {inside}: {path} is a symbolic link.")


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` in this process's mount namespace."""
    base = os.path.realpath(path)
    found = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == base or point.startswith(base.rstrip("/") + "/"):
                found.append(point)
    return found

"""The project's Dockerfile as a list of build steps, for building its image without Docker.

The Dockerfile is the one list of steps: :mod:`waveshard.runners.rootfs` executes
what this module reads from it, so the image built by ``docker build`` and the root
file system built here cannot drift apart. Only the subset the project uses is
understood — ``FROM debian:<release>-slim``, ``ENV``, ``WORKDIR``, ``COPY``,
``RUN`` and an exec-form ``ENTRYPOINT`` — and anything else is an error naming the
line, so a new instruction cannot be silently skipped.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

#: The environment of Debian's official images before any ENV of ours.
DEBIAN_BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
_FROM_RE = re.compile(r"^debian:(?P<release>[a-z]+)-slim$")
_VAR_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class DockerfileError(ValueError):
    """The Dockerfile uses something the rootfs build cannot reproduce; the message says what."""


@dataclass(frozen=True)
class Env:
    """``ENV``: variables set for later steps and for the image (values already expanded)."""

    values: dict[str, str]


@dataclass(frozen=True)
class Workdir:
    """``WORKDIR``: created if missing; the directory of later steps and of the container."""

    path: str


@dataclass(frozen=True)
class Copy:
    """``COPY``: files of the build context into the image."""

    sources: tuple[str, ...]
    destination: str


@dataclass(frozen=True)
class Run:
    """``RUN``: a command run in the image being built (``argv`` for the exec form)."""

    argv: tuple[str, ...]


Step = Env | Workdir | Copy | Run


@dataclass(frozen=True)
class ImagePlan:
    """What a Dockerfile builds.

    Attributes:
        release: Debian release of the base image (``bookworm`` for ``debian:bookworm-slim``).
        steps: The build steps in order.
        env: The image's final environment (base image's, then every ``ENV``).
        workdir: The container's working directory.
        entrypoint: The exec-form ``ENTRYPOINT``.
    """

    release: str
    steps: tuple[Step, ...]
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    entrypoint: tuple[str, ...] = ()

    def copied_files(self) -> list[str]:
        """Every build-context path a ``COPY`` reads."""
        return [src for step in self.steps if isinstance(step, Copy) for src in step.sources]


def parse(text: str) -> ImagePlan:
    """Read a Dockerfile of the supported subset.

    Args:
        text: The Dockerfile's content.

    Raises:
        DockerfileError: On an instruction, base image or form outside the subset.
    """
    release: str | None = None
    env = dict(DEBIAN_BASE_ENV)
    workdir = "/"
    entrypoint: tuple[str, ...] = ()
    steps: list[Step] = []
    for number, line in _logical_lines(text):
        instruction, _, rest = line.partition(" ")
        instruction, rest = instruction.upper(), rest.strip()
        where = f"Dockerfile line {number} ({instruction})"
        if instruction == "FROM":
            match = _FROM_RE.match(rest)
            if release is not None or not match:
                raise DockerfileError(
                    f"{where}: the rootfs build reproduces one base, debian:<release>-slim "
                    f"(what debootstrap --variant=minbase builds); got {rest!r}."
                )
            release = match["release"]
            continue
        if release is None:
            raise DockerfileError(f"{where}: the first instruction must be FROM.")
        if instruction == "ENV":
            values = _env_values(rest, env, where)
            env.update(values)
            steps.append(Env(values))
        elif instruction == "WORKDIR":
            workdir = str(PurePosixPath(workdir) / _expand(rest, env))
            steps.append(Workdir(workdir))
        elif instruction == "COPY":
            words = shlex.split(rest)
            if len(words) < 2 or any(w.startswith("--") for w in words):
                raise DockerfileError(f"{where}: use `COPY <file>... <destination>` (no flags).")
            sources = tuple(words[:-1])
            for source in sources:
                if any(c in source for c in "*?[") or source.startswith(("/", "..")):
                    raise DockerfileError(
                        f"{where}: {source!r}: name each file of the build context (no globs)."
                    )
            destination = str(PurePosixPath(workdir) / words[-1])
            if words[-1].endswith("/") or words[-1] == ".":
                destination += "/"
            steps.append(Copy(sources, destination))
        elif instruction == "RUN":
            steps.append(
                Run(_exec_form(rest, where) if rest.startswith("[") else ("/bin/sh", "-c", rest))
            )
        elif instruction == "ENTRYPOINT":
            if not rest.startswith("["):
                raise DockerfileError(f'{where}: write the exec form, e.g. ["python3"].')
            entrypoint = _exec_form(rest, where)
        else:
            raise DockerfileError(
                f"{where}: not understood by the rootfs build (FROM, ENV, WORKDIR, COPY, RUN, "
                "ENTRYPOINT); add it to waveshard.runners.dockerfile or express it with those."
            )
    if release is None:
        raise DockerfileError("Dockerfile has no FROM line.")
    return ImagePlan(release, tuple(steps), env, workdir, entrypoint)


def read(path: Path) -> ImagePlan:
    """Parse the Dockerfile at ``path``."""
    return parse(path.read_text())


def _logical_lines(text: str):
    """(first line number, instruction) with comments dropped and ``\\`` continuations joined."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # Docker drops comment lines inside a continued instruction
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        yield start, " ".join(part for part in buffer if part)
        buffer = []
    if buffer:
        yield start, " ".join(part for part in buffer if part)


def _expand(value: str, env: dict[str, str]) -> str:
    return _VAR_RE.sub(lambda m: env.get(m["braced"] or m["plain"], ""), value)


def _env_values(rest: str, env: dict[str, str], where: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for word in shlex.split(rest):
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise DockerfileError(f"{where}: write ENV as KEY=value pairs, got {word!r}.")
        # Docker expands every pair of one ENV against the environment before it.
        values[key] = _expand(value, env)
    return values


def _exec_form(rest: str, where: str) -> tuple[str, ...]:
    try:
        argv = json.loads(rest)
    except json.JSONDecodeError as exc:
        raise DockerfileError(f"{where}: exec form must be a JSON list of strings.") from exc
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise DockerfileError(f"{where}: exec form must be a non-empty JSON list of strings.")
    return tuple(argv)

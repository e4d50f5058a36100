"""Running the project's command-line tools as a user does: in a subprocess, from the project."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import PROJECT_ROOT

#: Console scripts of this environment (kedro, waveshard).
BIN = Path(sys.executable).parent


@dataclass
class Result:
    """What a command printed and how it ended."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def command(program: str, *args: str) -> list[str]:
    """The argv of a console script of this environment."""
    return [str(BIN / program), *args]


def environment(env: dict[str, str] | None = None, *, inherit: bool = True) -> dict[str, str]:
    """The subprocess environment: this one (or none) plus ``env``, wide enough for tables."""
    base = dict(os.environ) if inherit else {"PATH": os.environ.get("PATH", "")}
    return {**base, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **(env or {})}


def run(
    program: str,
    *args: str,
    cwd: Path = PROJECT_ROOT,
    env: dict[str, str] | None = None,
    inherit: bool = True,
    timeout: float = 600,
) -> Result:
    """Run a console script of this environment and wait for it."""
    proc = subprocess.run(
        command(program, *args),
        cwd=cwd,
        env=environment(env, inherit=inherit),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def start(
    program: str,
    *args: str,
    cwd: Path = PROJECT_ROOT,
    env: dict[str, str] | None = None,
    inherit: bool = True,
) -> subprocess.Popen:
    """Start a console script in the background (output merged into ``stdout``)."""
    return subprocess.Popen(
        command(program, *args),
        cwd=cwd,
        env=environment(env, inherit=inherit),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kedro(*args: str, **options) -> Result:
    """``kedro <args>`` from the project root (see :func:`run` for the options)."""
    return run("kedro", *args, **options)

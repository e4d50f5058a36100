"""The documentation's commands and code as a reader copies them, and a project to run them in.

``blocks`` reads the fenced blocks of a Markdown file; ``commands`` turns a
``bash`` block into the command lines a reader would paste (continuation lines
joined, trailing comments dropped). ``ProjectCopy`` is a copy of the project in
a temporary folder where those commands run as written: ``uv`` is pointed at
this test environment (never syncing it, never going online), so ``uv run
kedro run`` behaves as in a fresh clone without touching this worktree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.cli import Result, environment
from tests.support.paths import PROJECT_ROOT

_FENCE = re.compile(r"^```\s*([\w-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced block: its language, first line (1-based) and text."""

    doc: str
    language: str
    line: int
    text: str


@dataclass(frozen=True)
class Command:
    """One command line of a ``bash`` block."""

    doc: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


def blocks(doc: str) -> list[Block]:
    """Fenced blocks of ``doc`` (a path relative to the project root), in order."""
    found, language, start, lines = [], None, 0, []
    for number, line in enumerate((PROJECT_ROOT / doc).read_text().splitlines(), 1):
        match = _FENCE.match(line)
        if language is None and match:
            language, start, lines = match.group(1), number + 1, []
        elif language is not None and line.strip() == "```":
            found.append(Block(doc, language, start, "\n".join(lines) + "\n"))
            language = None
        elif language is not None:
            lines.append(line)
    assert language is None, f"{doc}: unclosed fenced block from line {start - 1}"
    return found


def strip_comment(line: str) -> str:
    """``line`` without a trailing shell comment (a ``#`` after a blank, outside quotes)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def commands(block: Block) -> list[Command]:
    """The command lines of a ``bash`` block."""
    found, pending, first = [], "", 0
    for offset, raw in enumerate(block.text.splitlines()):
        line = strip_comment(raw)
        if not pending:
            first = block.line + offset
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        text = (pending + line.strip()).strip()
        pending = ""
        if text:
            found.append(Command(block.doc, first, text))
    return found


def doc_commands(doc: str) -> list[Command]:
    """Every command of every ``bash`` block of ``doc``."""
    return [c for b in blocks(doc) if b.language == "bash" for c in commands(b)]


def uv_path() -> str:
    """A PATH on which ``uv`` is found (the CI installs it as a module when it is missing)."""
    path = os.environ.get("PATH", "")
    if shutil.which("uv"):
        return path
    found = subprocess.run(
        ["python3", "-c", "import os, uv; print(os.path.dirname(uv.find_uv_bin()))"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, f"uv is neither on PATH nor importable: {found.stderr}"
    return f"{found.stdout.strip()}{os.pathsep}{path}"


class ProjectCopy:
    """A copy of the project (code, configuration, the sample) to run documented commands in."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        for name in ("pyproject.toml", "uv.lock", ".telemetry", "README.md"):
            shutil.copy2(PROJECT_ROOT / name, root / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(PROJECT_ROOT / "src", root / "src", ignore=ignore)
        # conf/local may hold someone's credentials: only the template comes along.
        shutil.copytree(
            PROJECT_ROOT / "conf",
            root / "conf",
            ignore=lambda folder, names: (
                [n for n in names if n not in (".gitkeep", "credentials.yml.example")]
                if Path(folder).name == "local"
                else []
            ),
        )
        shutil.copytree(PROJECT_ROOT / "data" / "01_raw", root / "data" / "01_raw")

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """This process's environment, with ``uv`` bound to the test environment."""
        return environment(
            {
                "PATH": uv_path(),
                # The environment the tests run in; never synced, never online.
                "UV_PROJECT_ENVIRONMENT": sys.prefix,
                "UV_NO_SYNC": "1",
                "UV_OFFLINE": "1",
                "KEDRO_DISABLE_TELEMETRY": "1",
                "DO_NOT_TRACK": "1",
                **(extra or {}),
            }
        )

    def run(
        self,
        command: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        timeout: float = 600,
    ) -> Result:
        """Run one documented command line with bash, from the copy's root."""
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=self.root,
            env=self.environment(env),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def python(self, code: str, env: dict[str, str] | None = None) -> Result:
        """Run a documented Python block with this environment's interpreter."""
        script = self.root / ".doc_block.py"
        script.write_text(code)
        proc = subprocess.run(
            [sys.executable, str(script)],
            cwd=self.root,
            env=self.environment(env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

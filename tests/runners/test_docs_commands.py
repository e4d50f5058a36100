"""The runner commands of the README and docs/sagemaker.md paste safely into a shell."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.paths import PROJECT_ROOT

DOCS = ["README.md", "docs/sagemaker.md"]


def _runner_commands(name: str) -> list[str]:
    text = (PROJECT_ROOT / name).read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        commands += [line for line in joined.splitlines() if "ProcessingJobRunner" in line]
    return commands


@pytest.mark.parametrize("name", DOCS)
def test_runner_commands_are_valid_shell(name: str) -> None:
    commands = _runner_commands(name)
    assert commands
    for command in commands:
        check = subprocess.run(
            ["bash", "-n", "-c", command], check=False, capture_output=True, text=True
        )
        assert check.returncode == 0, f"{name}: {command}\n{check.stderr}"


@pytest.mark.parametrize("name", DOCS)
def test_sagemaker_commands_say_which_region_their_image_is_in(name: str) -> None:
    with_image = [c for c in _runner_commands(name) if "image_uri=" in c]
    assert with_image
    for command in with_image:
        assert "region=" in command, f"{name}: jobs would start in the shell's region: {command}"

"""Resume: a job's fingerprint changes with everything that can change its outputs."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_ROOT
from waveshard.runners.context import RunContext
from waveshard.runners.marker import fingerprint, is_complete, read_marker
from waveshard.runners.settings import ProcessingSettings
from waveshard.runners.shipping import build_artefacts

BASE = {
    "artefacts_digest": "a" * 64,
    "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/waveshard:1",
    "namespace": "group_30",
    "nodes": ["group_30.discover", "group_30.extract"],
    "inputs": {"raw_records": "s3://raw/30"},
    "params": {"groups": "30"},
    "environment": {},
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("artefacts_digest", "b" * 64),
        ("image_uri", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/waveshard:2"),
        ("namespace", "group_31"),
        ("nodes", ["group_30.discover"]),
        ("inputs", {"raw_records": "s3://raw/31"}),
        ("params", {"groups": "30 31"}),
        ("environment", {"EXTRA": "1"}),
        ("entries", ["3000003"]),
        ("isolation", "image"),
    ],
)
def test_every_input_of_a_job_changes_its_fingerprint(field: str, value) -> None:
    same = fingerprint(**BASE)
    assert fingerprint(**BASE) == same
    assert fingerprint(**{**BASE, field: value}) != same
    marker = {"fingerprint": same}
    assert is_complete(marker, same)
    assert not is_complete(marker, fingerprint(**{**BASE, field: value}))


def test_the_order_of_nodes_and_mappings_does_not_change_the_fingerprint() -> None:
    """The same job planned with its parameters or inputs listed in another order is done."""
    base = {
        **BASE,
        "inputs": {"raw_records": "s3://raw/30", "listing": "s3://raw/listing.csv"},
        "params": {"groups": "30", "max_workers": 2},
        "environment": {"A": "1", "B": "2"},
    }
    reordered = {
        **base,
        "nodes": list(reversed(base["nodes"])),
        "inputs": dict(reversed(base["inputs"].items())),
        "params": dict(reversed(base["params"].items())),
        "environment": dict(reversed(base["environment"].items())),
    }
    assert list(reordered["params"]) != list(base["params"])
    assert fingerprint(**reordered) == fingerprint(**base)


def test_parameters_json_cannot_hold_are_fingerprinted_by_their_text() -> None:
    """YAML turns ``2024-01-31`` into a date, which JSON has no type for."""
    first = fingerprint(**{**BASE, "params": {"since": datetime.date(2024, 1, 31)}})
    assert first == fingerprint(**{**BASE, "params": {"since": "2024-01-31"}})
    assert first != fingerprint(**{**BASE, "params": {"since": datetime.date(2024, 2, 1)}})


def test_read_marker_returns_the_marker_or_none(tmp_path: Path) -> None:
    assert read_marker(str(tmp_path), "_done.json") is None
    (tmp_path / "_done.json").write_text(json.dumps({"fingerprint": "f" * 64}))
    assert read_marker(str(tmp_path), "_done.json") == {"fingerprint": "f" * 64}
    (tmp_path / "_done.json").write_text('{"fingerprint": ')  # cut short while written
    assert read_marker(str(tmp_path), "_done.json") is None
    assert not is_complete(read_marker(str(tmp_path), "_done.json"), "f" * 64)


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copyfile(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    shutil.copytree(
        PROJECT_ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    return project


def _digest(project: Path) -> str:
    context = RunContext(
        env="aws",
        runtime_params={},
        project_path=project,
        conf_source=project / "conf",
        argv=[],
    )
    return build_artefacts(context, "waveshard", ProcessingSettings()).digest


def test_code_and_configuration_are_in_the_fingerprint(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = _digest(project)
    assert _digest(project) == before  # reproducible: an unchanged project is done
    parameters = project / "conf" / "base" / "parameters_extraction.yml"
    parameters.write_text(parameters.read_text() + "\n# a changed setting\n")
    after_conf = _digest(project)
    assert after_conf != before
    nodes = project / "src" / "waveshard" / "pipelines" / "profile" / "nodes.py"
    nodes.write_text(nodes.read_text() + "\n# a changed line of code\n")
    assert _digest(project) not in (before, after_conf)

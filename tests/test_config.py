"""One way to read configuration: the run's groups, other environments, no leaked resolvers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.support.paths import PROJECT_ROOT
from waveshard import config
from waveshard.config import ConfigError, parse_groups


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (30, ["30"]),
        ("30 31", ["30", "31"]),
        ("30;31", ["30", "31"]),
        (" 30 ; 31 ", ["30", "31"]),
        (["30", 31], ["30", "31"]),
    ],
)
def test_groups_are_read_from_any_spelling(value, expected) -> None:
    assert parse_groups(value, "--params") == expected


def test_groups_naming_nothing_is_an_error_that_names_the_fix() -> None:
    with pytest.raises(ConfigError, match=r'--params "groups=30 31"'):
        parse_groups(" ; ", "--params")


def _run(tmp_path: Path, raw: Path, *, bootstrap: bool = True, **session) -> dict:
    out = tmp_path / "out"
    if bootstrap:
        bootstrap_project(PROJECT_ROOT)
    params = {"raw_root": str(raw), "output_root": str(out), **session.pop("params", {})}
    with KedroSession.create(project_path=PROJECT_ROOT, runtime_params=params, **session) as s:
        s.run()
    return json.loads((out / "08_reporting/run_summary.json").read_text())


def test_groups_from_params_shape_the_run(physionet_tree: Path, tmp_path: Path) -> None:
    summary = _run(tmp_path, physionet_tree, params={"groups": "30 32"})
    assert [g["group"] for g in summary["groups"]] == ["30", "32"]
    # The next session of the same process (no new bootstrap, pipelines already
    # registered) gets its own groups, not the registered ones.
    again = _run(tmp_path / "again", physionet_tree, bootstrap=False, params={"groups": "39"})
    assert [g["group"] for g in again["groups"]] == ["39"]


def test_groups_of_another_environment_are_honoured(physionet_tree: Path, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_ROOT / "conf", conf, ignore=shutil.ignore_patterns("local"))
    (conf / "local").mkdir()
    (conf / "few").mkdir()
    (conf / "few" / "parameters.yml").write_text('groups: ["32"]\n')
    summary = _run(tmp_path, physionet_tree, env="few", conf_source=str(conf))
    assert [g["group"] for g in summary["groups"]] == ["32"]


def test_reading_another_environment_keeps_the_sessions_globals(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_ROOT / "conf", conf, ignore=shutil.ignore_patterns("local"))
    (conf / "local").mkdir()
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, conf_source=str(conf)) as session:
        context = session.load_context()
        aws = config.read("globals", env="aws", conf_source=conf)
        assert aws["raw_root"] == "s3://waveshard-raw/mimic3wdb/1.0"
        # The session resolves ${globals:raw_root} from its own environment afterwards.
        catalog = context.config_loader["catalog"]
        assert catalog["group_{group}.raw_records"]["path"] == "data/01_raw/{group}"

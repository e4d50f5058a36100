"""Running some groups: what --namespaces does and does not write, said in one line.

The documented way to run a subset end to end (``--params "groups=30 31"``) is run
as written by tests/test_docs.py; here, the runs that do less say so.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import cli
from tests.support.paths import SAMPLE_RAW
from waveshard.session import unknown_namespaces_error

VALID = [f"group_{g}" for g in range(30, 40)]


def test_namespaces_run_says_that_combine_did_not_run(tmp_path: Path) -> None:
    params = f"raw_root={SAMPLE_RAW},output_root={tmp_path}"
    result = cli.kedro("run", "--params", params, "--namespaces", "group_30")
    assert result.code == 0, result.output
    assert (tmp_path / "02_intermediate/groups/30/segment_features.parquet").is_file()
    assert not (tmp_path / "04_feature").exists() and not (tmp_path / "08_reporting").exists()
    said = [line for line in result.output.splitlines() if "Combine did not run" in line]
    assert len(said) == 1, result.output
    assert "--namespaces group_30" in said[0]
    assert f"{tmp_path}/04_feature/" in said[0]
    assert 'kedro run --params "groups=30"' in said[0]
    assert result.output.splitlines()[-1] == said[0]  # the last word of the run


def test_unknown_namespace_names_the_valid_ones(tmp_path: Path) -> None:
    params = f"raw_root={SAMPLE_RAW},output_root={tmp_path}"
    result = cli.kedro("run", "--params", params, "--namespaces", "30")
    assert result.code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert errors == [
        "Error: --namespaces 30 (did you mean group_30?): no such namespace; valid names: "
        + ", ".join(VALID)
        + '. To run some groups end to end instead, use --params "groups=30".'
    ]
    assert not any(tmp_path.iterdir())  # nothing ran


def test_unknown_namespaces_error_only_for_names_that_match_nothing() -> None:
    assert unknown_namespaces_error(["group_30", "group_31.x"], VALID) is None
    error = unknown_namespaces_error(["group_30", "31", "group_77"], VALID)
    assert error is not None
    assert error.message.startswith(
        "--namespaces 31 (did you mean group_31?), group_77 (did you mean group_37?): no such"
    )
    assert error.message.endswith('use --params "groups=31 77".')

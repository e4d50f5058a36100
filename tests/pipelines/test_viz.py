"""kedro-viz builds offline and shows one namespace per group."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support import cli
from tests.support.paths import PROJECT_ROOT
from waveshard.config import DEFAULT_GROUPS


def test_viz_build_shows_group_namespaces(tmp_path: Path) -> None:
    # A copy of the project's configuration, so the build does not write into the repo.
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    shutil.copytree(
        PROJECT_ROOT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local")
    )
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()  # the package itself is imported from the environment
    env = {"KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    result = cli.kedro("viz", "build", cwd=tmp_path, env=env, timeout=300)
    assert result.code == 0, result.output
    main = json.loads((tmp_path / "build" / "api" / "main").read_text())
    namespaces = set(main["modular_pipelines"]) - {"__root__"}
    assert namespaces == {f"group_{g}" for g in DEFAULT_GROUPS}
    node_names = {n["name"] for n in main["nodes"] if n["type"] == "task"}
    assert {"discover", "plan_shards", "extract", "report_group", "summarize_records"} <= {
        n.rsplit(".", 1)[-1] for n in node_names
    }
    assert "signal_statistics" in {n.rsplit(".", 1)[-1] for n in node_names}

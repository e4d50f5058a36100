"""kedro-viz: the static site of a project that ran, checked as JSON and in a real browser."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.support import browser, cli
from tests.support.project import QUIET
from waveshard.config import DEFAULT_GROUPS

GROUP_STEPS = {"discover", "plan_shards", "extract", "report_group", "summarize_records"}
COMBINE_STEPS = {
    "combine_segment_features",
    "combine_record_features",
    "combine_errors",
    "signal_statistics",
    "summarize_run",
}
REPORTING_STEPS = {
    "draw_coverage",
    "draw_feature_distributions",
    "draw_problems",
    "write_run_report",
}
LAYERS = ["raw", "intermediate", "feature", "reporting"]


@pytest.fixture(scope="module")
def site(sample_run_project: Path) -> Path:
    """`kedro viz build --include-previews` after `kedro run`, as the README says."""
    result = cli.kedro(
        "viz", "build", "--include-previews", cwd=sample_run_project, env=QUIET, timeout=300
    )
    assert result.code == 0, result.output[-4000:]
    return sample_run_project / "build"


def _main(site: Path) -> dict:
    return json.loads((site / "api" / "main").read_text())


def _node(site: Path, name: str) -> dict:
    (found,) = [n for n in _main(site)["nodes"] if n["name"] == name]
    return {**found, **json.loads((site / "api" / "nodes" / found["id"]).read_text())}


def test_viz_build_shows_group_namespaces(site: Path) -> None:
    main = _main(site)
    namespaces = set(main["modular_pipelines"]) - {"__root__"}
    assert namespaces == {f"group_{g}" for g in DEFAULT_GROUPS}
    steps = {n["name"].rsplit(".", 1)[-1] for n in main["nodes"] if n["type"] == "task"}
    assert steps >= GROUP_STEPS | COMBINE_STEPS | REPORTING_STEPS


def test_viz_build_has_layers_and_previews(site: Path, sample_run_project: Path) -> None:
    assert _main(site)["layers"] == LAYERS
    expected = {
        "group_30.raw_records": "raw",
        "group_30.segment_features": "intermediate",
        "segment_features": "feature",
        "record_features": "feature",
        "signal_stats": "reporting",
        "coverage_figure": "reporting",
        "run_report": "reporting",
    }
    assert {name: _node(site, name)["layer"] for name in expected} == expected
    # tables preview their first rows, figures the PNG the run wrote
    table = _node(site, "record_features")
    assert table["preview_type"] == "TablePreview"
    assert len(table["preview"]["data"]) == 10
    assert "p50" in table["preview"]["columns"]
    figure = _node(site, "coverage_figure")
    assert figure["preview_type"] == "ImagePreview"
    png = sample_run_project / "data" / "08_reporting" / "figures" / "coverage.png"
    assert base64.b64decode(figure["preview"]) == png.read_bytes()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_a_person_sees_the_groups_the_combine_steps_and_a_plot(
    site: Path, sample_run_project: Path
) -> None:
    png = sample_run_project / "data" / "08_reporting" / "figures" / "coverage.png"
    with browser.serve(site) as url, browser.chromium() as context:
        page = browser.open_flowchart(context, url)
        # each group is one collapsed namespace in the flowchart, beside the combine steps
        groups = page.locator(".pipeline-node--modularPipeline").all_text_contents()
        assert sorted(groups) == [f"group_{g}" for g in DEFAULT_GROUPS]
        steps = set(page.locator(".pipeline-node--task").all_text_contents())
        assert steps >= COMBINE_STEPS | REPORTING_STEPS
        assert page.locator(".pipeline-layer-name").all_text_contents() == LAYERS
        # clicking the coverage figure shows the picture itself, decoded by the browser
        panel = browser.open_dataset(page, "coverage_figure")
        image = panel.locator("img.pipeline-metadata__plot-image")
        image.wait_for(timeout=browser.LOAD_TIMEOUT_MS)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        drawn = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert tuple(drawn) == _png_size(png.read_bytes())
        assert image.bounding_box()["width"] > 100  # on screen, not a broken-image icon

"""The tour notebook: committed as its paired script without outputs, and it runs on a clone."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from tests.support.paths import PROJECT_ROOT
from tests.support.project import QUIET

NOTEBOOK = PROJECT_ROOT / "notebooks" / "waveshard_tour.ipynb"
SCRIPT = NOTEBOOK.with_suffix(".py")


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_committed_notebook_is_its_script_without_outputs() -> None:
    committed = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), (
        "commit the notebook without outputs: `uv run jupytext --to ipynb "
        "notebooks/waveshard_tour.py` rewrites it from the script"
    )
    assert _cells(committed) == _cells(jupytext.read(SCRIPT)), (
        "notebooks/waveshard_tour.ipynb and .py differ: edit the .py, then "
        "`uv run jupytext --to ipynb notebooks/waveshard_tour.py`"
    )


def _images(cell) -> int:
    return sum("image/png" in out.get("data", {}) for out in cell.outputs)


def _text(cell) -> str:
    parts = []
    for out in cell.outputs:
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _section(notebook, heading: str) -> list:
    """The code cells after the markdown cell whose first line is ``heading``."""
    cells, inside = [], False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            inside = cell.source.splitlines()[0] == heading
        elif inside:
            cells.append(cell)
    assert cells, f"no section {heading!r}"
    return cells


def test_tour_runs_on_a_fresh_run(
    sample_run_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in QUIET.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(sample_run_project / "notebooks" / NOTEBOOK.name, as_version=4)
    run = len(notebook.cells)
    # Then, in the same kernel: a project without outputs gets told to run the pipeline.
    guard = next(c for c in notebook.cells if 'catalog.exists("run_summary")' in c.source)
    # (kedro.ipython shows tracebacks its own way, so the cell catches and prints the error)
    guarded = f"try:\n{textwrap.indent(guard.source, '    ')}\nexcept RuntimeError as error:\n"
    notebook.cells += [
        nbformat.v4.new_code_cell(f'%reload_kedro --params "output_root={tmp_path / "none"}"'),
        nbformat.v4.new_code_cell(guarded + '    print(f"refused: {error}")'),
    ]
    folder = sample_run_project / "notebooks"
    # Any other exception in a cell fails here, with the cell and its traceback.
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()

    refused = _text(notebook.cells[-1])
    assert "refused: This notebook reads a run's outputs, and there are none yet" in refused
    assert "run `uv run kedro run` in the project folder" in refused
    notebook.cells = notebook.cells[:run]
    (line,) = _section(notebook, "## The run in one line")
    assert re.search(r"Run report: 10 groups, 20 records; segments 78 ok, 0 failed", _text(line))
    for heading in (
        "## Coverage: how much signal each group holds",
        "## Record-level features per signal",
        "## Problems",
    ):
        assert sum(_images(c) for c in _section(notebook, heading)) == 1, heading
    timeline, waves = _section(notebook, "## One record, from its master header to its waveforms")
    assert "gap" in _text(timeline) and "layout" in _text(timeline)
    assert _images(timeline) == 1 and _images(waves) == 1
    (clinical,) = _section(notebook, "## Clinical features next to the monitor's numerics")
    catalog = yaml.safe_load((sample_run_project / "conf" / "base" / "catalog.yml").read_text())
    if "window_features" in catalog:
        assert _images(clinical) == 1
    else:
        assert "needs the clinical pipeline" in _text(clinical)
        assert _images(clinical) == 0

"""FigureDataset and TextDataset: all-or-nothing saves; a figure loads as its PNG bytes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from kedro.io import DatasetError
from matplotlib.figure import Figure

from waveshard.datasets import FigureDataset, TextDataset


def _figure() -> Figure:
    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def test_figure_saves_a_png_and_loads_its_bytes(tmp_path: Path) -> None:
    target = tmp_path / "08_reporting" / "figures" / "f.png"
    dataset = FigureDataset(filepath=str(target))
    dataset.save(_figure())
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert dataset.load() == data
    assert [p.name for p in target.parent.iterdir()] == ["f.png"]  # no staging file left
    assert dataset.preview() is not None  # what kedro-viz shows


def test_figure_refuses_what_is_not_one_figure(tmp_path: Path) -> None:
    dataset = FigureDataset(filepath=str(tmp_path / "f.png"))
    with pytest.raises(DatasetError, match="MatplotlibDataset"):
        dataset.save([_figure(), _figure()])
    assert not (tmp_path / "f.png").exists()


def test_a_failed_figure_save_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "f.png"
    target.write_bytes(b"previous")
    broken = _figure()
    broken.savefig = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full"))
    with pytest.raises(DatasetError, match="disk full"):
        FigureDataset(filepath=str(target)).save(broken)
    assert target.read_bytes() == b"previous"


def test_text_round_trip_is_utf8(tmp_path: Path) -> None:
    dataset = TextDataset(filepath=str(tmp_path / "r" / "report.html"))
    dataset.save("<p>µV · ±</p>")
    assert (tmp_path / "r" / "report.html").read_bytes() == "<p>µV · ±</p>".encode()
    assert dataset.load() == "<p>µV · ±</p>"


def test_figures_and_pages_get_the_mode_the_umask_gives(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        FigureDataset(filepath=str(tmp_path / "f.png")).save(_figure())
        TextDataset(filepath=str(tmp_path / "r.html")).save("<p>report</p>")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "f.png").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "r.html").stat().st_mode) == 0o644

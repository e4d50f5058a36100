"""Custom datasets: a group folder as input; outputs saved all-or-nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from tests.support.paths import PROJECT_ROOT
from waveshard.datasets import CSVDataset, JSONDataset, ParquetDataset, WfdbGroupDataset


def test_group_dataset_lists_sizes_and_is_read_only() -> None:
    dataset = WfdbGroupDataset(path=str(PROJECT_ROOT / "data" / "01_raw" / "31"))
    folder = dataset.load()
    assert folder.group == "31" and folder.exists
    hea = [rel for rel in folder.files if rel.endswith(".hea")]
    assert hea and all(folder.files[rel] > 0 for rel in hea)
    assert dataset.exists()
    with pytest.raises(DatasetError, match="WfdbGroupDataset is read-only"):
        dataset.save(object())


@pytest.mark.parametrize(
    ("cls", "name", "kwargs"),
    [(ParquetDataset, "t.parquet", {}), (CSVDataset, "t.csv", {"save_args": {"index": False}})],
)
def test_table_round_trip(tmp_path: Path, cls, name: str, kwargs: dict) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    dataset = cls(filepath=str(tmp_path / "out" / name), **kwargs)
    dataset.save(frame)
    pd.testing.assert_frame_equal(dataset.load(), frame)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [name]


def test_json_round_trip(tmp_path: Path) -> None:
    dataset = JSONDataset(filepath=str(tmp_path / "s.json"))
    dataset.save({"totals": {"segments": 3}})
    assert dataset.load() == {"totals": {"segments": 3}}


@pytest.mark.parametrize(
    ("cls", "name", "first", "second"),
    [
        (ParquetDataset, "t.parquet", pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [3]})),
        (CSVDataset, "t.csv", pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [3]})),
        (JSONDataset, "t.json", {"run": 1}, {"run": 2}),
    ],
)
def test_a_second_save_replaces_the_first(tmp_path: Path, cls, name: str, first, second) -> None:
    kwargs = {"save_args": {"index": False}} if cls is CSVDataset else {}
    dataset = cls(filepath=str(tmp_path / name), **kwargs)
    dataset.save(first)
    dataset.save(second)
    loaded = cls(filepath=str(tmp_path / name)).load()
    if isinstance(second, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, second)
    else:
        assert loaded == second


class Unwritable:
    """A value pyarrow and json cannot serialize."""


@pytest.mark.parametrize(
    ("cls", "name", "bad"),
    [
        (ParquetDataset, "t.parquet", pd.DataFrame({"a": [Unwritable()]})),
        (JSONDataset, "t.json", {"a": Unwritable()}),
    ],
)
def test_failed_save_keeps_the_previous_file_whole(tmp_path: Path, cls, name: str, bad) -> None:
    dataset = cls(filepath=str(tmp_path / name))
    good = pd.DataFrame({"a": [1]}) if cls is ParquetDataset else {"a": 1}
    dataset.save(good)
    before = (tmp_path / name).read_bytes()
    with pytest.raises(DatasetError):
        dataset.save(bad)
    assert (tmp_path / name).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no staging file left behind


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
@pytest.mark.parametrize(
    "output",
    [
        (ParquetDataset, "t.parquet", pd.DataFrame({"a": [1]})),
        (CSVDataset, "t.csv", pd.DataFrame({"a": [1]})),
        (JSONDataset, "t.json", {"a": 1}),
    ],
    ids=["parquet", "csv", "json"],
)
def test_outputs_get_the_mode_the_umask_gives_any_writer(
    tmp_path: Path, output: tuple, umask: int, mode: int
) -> None:
    cls, name, data = output
    previous = os.umask(umask)
    try:
        cls(filepath=str(tmp_path / "new" / name)).save(data)
        (tmp_path / "plain.txt").write_text("any other writer")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new" / name).stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == mode


def test_group_dataset_path_ignores_repeated_and_trailing_slashes() -> None:
    dataset = WfdbGroupDataset(path="s3://bucket/mimic3wdb/1.0//30/")
    assert dataset.path == "s3://bucket/mimic3wdb/1.0/30"
    assert dataset.group == "30"
    local = WfdbGroupDataset(path=f"{PROJECT_ROOT}/data//01_raw/31/").load()
    assert local.exists and local.files

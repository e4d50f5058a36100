"""Custom datasets: a group folder as input; outputs saved all-or-nothing."""

from __future__ import annotations

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

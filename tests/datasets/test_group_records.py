"""A group read as some of its records: what one partition's job sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.io import DatasetError

from waveshard.datasets import WfdbGroupDataset


def test_a_record_list_reads_exactly_those_records(physionet_tree: Path, tmp_path: Path) -> None:
    group = physionet_tree / "32"
    whole = WfdbGroupDataset(path=str(group)).load()
    listing = tmp_path / "entries.txt"
    listing.write_text("s25047\n")
    part = WfdbGroupDataset(path=str(group), records_file=str(listing)).load()
    assert part.files == {k: v for k, v in whole.files.items() if k.startswith("s25047/")}
    assert part.files and part.root == whole.root
    other = WfdbGroupDataset(path=str(group), records=["p000878"]).load()
    assert set(part.files) | set(other.files) == set(whole.files)
    with pytest.raises(DatasetError, match="not both"):
        WfdbGroupDataset(path=str(group), records=["a"], records_file=str(listing))


def test_a_loose_file_of_the_group_is_listed_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "30" / "3000003").mkdir(parents=True)
    (tmp_path / "30" / "3000003" / "3000003.hea").write_text("3000003/1 0 125 10\n")
    (tmp_path / "30" / "RECORDS").write_text("3000003/\n")
    folder = WfdbGroupDataset(path=str(tmp_path / "30"), records=["RECORDS"]).load()
    assert list(folder.files) == ["RECORDS"]

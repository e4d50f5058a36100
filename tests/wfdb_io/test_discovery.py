"""Header-driven discovery finds every segment and names every problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.paths import arrange_physionet
from waveshard.wfdb_io.discovery import discover_segments
from waveshard.wfdb_io.storage import GroupFolder


def test_real_group_39_layout(physionet_tree: Path) -> None:
    inventory = discover_segments(GroupFolder.scan("39", str(physionet_tree / "39")))
    by_segment = {t.segment: t for t in inventory.tasks}
    # 16 waveform segments listed, 3 without .dat; 2 numerics records.
    assert len(inventory.tasks) == 13 + 2
    numerics = by_segment["s00001-2896-10-10-00-31n"]
    assert numerics.kind == "numerics"
    assert numerics.record == "s00001-2896-10-10-00-31"
    assert numerics.dat_paths == ("s00001/3975656n.dat",)
    assert by_segment["3975656_0005"].record == "s00001-2896-10-10-00-31"
    # The layout-only record counts as a record, with no segment to extract.
    assert "s00001-2896-10-09-01-56" in inventory.records
    missing = sorted(p.segment for p in inventory.problems if p.error_type == "MissingDataFile")
    assert missing == ["3975656_0009", "3975656_0010", "3975656_0011"]


def test_absent_segments_listed_by_a_master_are_reported(physionet_tree: Path) -> None:
    inventory = discover_segments(GroupFolder.scan("32", str(physionet_tree / "32")))
    absent = [p for p in inventory.problems if p.error_type == "MissingSegment"]
    assert {p.record for p in absent} == {"p000878-2137-10-26-16-57"}
    assert len(absent) == 30  # 32 segments listed (0001-0032); only 0001 and 0002 exist
    assert all(p.path.endswith(f"{p.segment}.hea") for p in absent)


def test_missing_group_folder_is_empty_not_an_error(tmp_path: Path) -> None:
    folder = GroupFolder.scan("35", str(tmp_path / "35"))
    assert not folder.exists
    inventory = discover_segments(folder)
    assert inventory.tasks == [] and inventory.problems == []


@pytest.fixture
def damaged_group(tmp_path: Path) -> Path:
    """Group 39 with every kind of damage the pipeline must report."""
    root = arrange_physionet(tmp_path / "raw")
    record = root / "39" / "s00001"
    (record / "3975656_0001.dat").unlink()  # missing .dat
    data = (record / "3975656_0003.dat").read_bytes()
    (record / "3975656_0003.dat").write_bytes(data[: len(data) // 2])  # truncated
    (record / "3975656_0004.dat").write_bytes(b"")  # empty
    (record / "3975656_0007.hea").write_text("this is not a header\n")  # unparsable
    with (record / "3975656_0008.dat").open("ab") as f:  # longer than the header says
        f.write(b"\x00" * 10)
    # a zero-length segment, valid
    (record / "3975656_0099.hea").write_text(
        "3975656_0099 2 125 0\n3975656_0099.dat 80 1/mV 8 0 0 0 0 II\n"
        "3975656_0099.dat 80 1/mV 8 0 0 0 0 V\n"
    )
    (record / "3975656_0099.dat").write_bytes(b"")
    # stray non-WFDB files in group and record folders, and a data file no header names
    (root / "39" / "RECORDS").write_text("s00001/\n")
    (record / "notes.txt").write_text("hello")
    (record / ".DS_Store").write_bytes(b"\x00\x01")
    shutil.copyfile(record / "3975656_0002.dat", record / "stray_copy.dat")
    return root / "39"


def test_damage_is_reported_per_segment(damaged_group: Path) -> None:
    inventory = discover_segments(GroupFolder.scan("39", str(damaged_group)))
    kinds = {p.segment: p.error_type for p in inventory.problems}
    assert kinds["3975656_0001"] == "MissingDataFile"
    assert kinds["3975656_0003"] == "TruncatedDataFile"
    assert kinds["3975656_0004"] == "EmptyDataFile"
    assert kinds["3975656_0007"] == "UnparsableHeader"
    assert kinds["3975656_0008"] == "DataLengthMismatch"
    assert kinds["stray_copy"] == "OrphanDataFile"
    # The unparsable header's own .dat is not reported a second time as an orphan.
    assert "3975656_0007" not in {
        p.segment for p in inventory.problems if p.error_type == "OrphanDataFile"
    }
    assert "3975656_0099" in {t.segment for t in inventory.tasks}
    assert sorted(inventory.ignored_files) == ["RECORDS", "s00001/.DS_Store", "s00001/notes.txt"]
    # Every header is either a task, a problem, a master or a layout.
    headers = {p.stem for p in damaged_group.rglob("*.hea")}
    accounted = {t.segment for t in inventory.tasks} | {p.segment for p in inventory.problems}
    masters_and_layouts = {
        h
        for h in headers
        if h.endswith("_layout") or (h.startswith("s00001-") and not h.endswith("n"))
    }
    assert headers - masters_and_layouts <= accounted


def test_mimic3_layout_numerics_join_their_record() -> None:
    """`30/3000001/3000001n.hea` belongs to record 3000001, next to its master."""
    from tests.support.paths import PROJECT_ROOT

    group = GroupFolder.scan("30", str(PROJECT_ROOT / "data" / "01_raw" / "30"))
    inventory = discover_segments(group)
    numerics = {t.segment: t for t in inventory.tasks if t.kind == "numerics"}
    assert numerics["3000001n"].record == "3000001"
    assert numerics["3000001n"].header.fs == pytest.approx(1 / 60, rel=1e-9)
    waveform = {t.segment: t.record for t in inventory.tasks if t.kind == "waveform"}
    assert waveform["3000001_0002"] == "3000001"
    assert inventory.problems == []

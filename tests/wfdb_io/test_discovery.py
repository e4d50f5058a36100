"""Header-driven discovery finds every segment and names every problem."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest
import wfdb

from tests.support.paths import arrange_physionet
from waveshard.contract import MESSAGE_LIMIT
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
    kinds = {p.segment: (p.error_type, p.severity) for p in inventory.problems}
    assert kinds["3975656_0001"] == ("MissingDataFile", "error")
    assert kinds["3975656_0003"] == ("TruncatedDataFile", "error")
    assert kinds["3975656_0004"] == ("EmptyDataFile", "error")
    assert kinds["3975656_0007"] == ("UnparsableHeader", "error")
    # Longer than its header says: wfdb reads the first sig_len frames, and so do we.
    assert kinds["3975656_0008"] == ("DataLengthMismatch", "warning")
    assert "3975656_0008" in {t.segment for t in inventory.tasks}
    assert kinds["stray_copy"] == ("OrphanDataFile", "warning")
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


def _group(root: Path, files: dict[str, bytes | str]) -> GroupFolder:
    for rel, content in files.items():
        path = root / "30" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return GroupFolder.scan("30", str(root / "30"))


def _by_segment(inventory) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for p in inventory.problems:
        found.setdefault(p.segment, []).append((p.error_type, p.severity))
    return found


def test_a_signal_length_the_header_lacks_is_derived_from_the_file_as_wfdb_does(
    tmp_path: Path,
) -> None:
    group = _group(
        tmp_path,
        {
            "r/a.hea": "a 2 125\na.dat 80 200/mV 8 0 0 0 0 I\na.dat 80 200/mV 8 0 0 0 0 II\n",
            "r/a.dat": bytes(21),  # 10 whole frames of 2 bytes, and half a frame
            "r/b.hea": "b 1 125 -7\nb.dat 16 200/mV 16 0 0 0 0 I\n",
            "r/b.dat": bytes(8),
        },
    )
    inventory = discover_segments(group)
    tasks = {t.segment: t for t in inventory.tasks}
    assert tasks["a"].sig_len == 10 and tasks["b"].sig_len == 4
    for segment in ("a", "b"):
        assert wfdb.rdrecord(str(tmp_path / "30" / "r" / segment)).sig_len == tasks[segment].sig_len
    problems = _by_segment(inventory)
    # Half a frame is left over, which wfdb leaves unread too.
    assert sorted(problems["a"]) == [
        ("DataLengthMismatch", "warning"),
        ("SignalLengthFromFile", "warning"),
    ]
    assert sorted(problems["b"]) == [
        ("HeaderFieldIgnored", "warning"),
        ("SignalLengthFromFile", "warning"),
    ]


def test_unsupported_formats_and_headers_without_signals_are_errors(tmp_path: Path) -> None:
    group = _group(
        tmp_path,
        {
            "r/f.hea": "f 1 125 4\nf.dat 999 200/mV 8 0 0 0 0 I\n",
            "r/f.dat": bytes(4),
            "r/n.hea": "n 0 125 4\n",
        },
    )
    problems = _by_segment(discover_segments(group))
    assert problems["f"] == [("UnsupportedFormat", "error")]
    assert problems["n"] == [("NoSignals", "error")]


def test_a_folder_where_a_data_file_should_be_is_named_as_such(tmp_path: Path) -> None:
    group = _group(tmp_path, {"r/d.hea": "d 1 125 4\nd.dat 80 200/mV 8 0 0 0 0 I\n"})
    (tmp_path / "30" / "r" / "d.dat").mkdir()
    [problem] = discover_segments(GroupFolder.scan("30", str(tmp_path / "30"))).problems
    assert problem.error_type == "MissingDataFile"
    assert "is a folder, not a file" in problem.message
    del group


def test_symbolic_links_are_followed_only_inside_the_group_folder(tmp_path: Path) -> None:
    secret = tmp_path / "secret.dat"
    secret.write_bytes(b"\x7f" * 64)
    header = "{0} 1 125 4\n{0}.dat 80 200/mV 8 0 0 0 0 I\n"
    group = tmp_path / "30" / "r"
    group.mkdir(parents=True)
    for name in ("inside", "outside", "loop", "twin"):
        (group / f"{name}.hea").write_text(header.format(name))
    (group / "real.dat").write_bytes(bytes(4))
    (group / "inside.dat").symlink_to("real.dat")
    (group / "outside.dat").symlink_to(secret)
    (group / "loop.dat").symlink_to("loop.dat")
    (group / "twin.hea").unlink()
    (group / "twin.hea").symlink_to(secret)
    (group / "cycle").symlink_to(".", target_is_directory=True)
    folder = GroupFolder.scan("30", str(tmp_path / "30"))
    assert folder.files["r/inside.dat"] == 4
    inventory = discover_segments(folder)
    assert {t.segment for t in inventory.tasks} == {"inside"}
    problems = {p.segment: p for p in inventory.problems}
    assert problems["outside"].error_type == "SymlinkNotFollowed"
    assert "outside the group folder" in problems["outside"].message
    assert problems["loop"].error_type == "SymlinkNotFollowed"
    assert problems["twin"].error_type == "UnreadableHeader"
    assert "r/cycle" in inventory.ignored_files


def test_a_segment_two_masters_list_is_extracted_once_with_a_warning(tmp_path: Path) -> None:
    group = _group(
        tmp_path,
        {
            "r/m1.hea": "m1/1 1 125 4\ns_1 4\n",
            "r/m2.hea": "m2/1 1 125 4\ns_1 4\n",
            "r/s_1.hea": "s_1 1 125 4\ns_1.dat 80 200/mV 8 0 0 0 0 I\n",
            "r/s_1.dat": bytes(4),
        },
    )
    inventory = discover_segments(group)
    assert [(t.segment, t.record) for t in inventory.tasks] == [("s_1", "m1")]
    assert [(p.error_type, p.severity, p.record) for p in inventory.problems] == [
        ("SegmentListedTwice", "warning", "m2")
    ]


def test_huge_and_garbage_headers_give_short_printable_rows(tmp_path: Path, monkeypatch) -> None:
    """A megabyte of garbage once became a megabyte of extraction_errors."""
    rng = random.Random(7)
    group = _group(
        tmp_path,
        {
            "r/garbage.hea": rng.randbytes(1 << 20),
            "r/nul.hea": bytes(1 << 20),
            "r/words.hea": "w 1 125 4\n" + "j" * (1 << 20) + "\n",
            "r/big.hea": "b 1 125 4\nb.dat 80 200/mV 8 0 0 0 0 I\n" + "# c\n" * 1000,
        },
    )
    monkeypatch.setattr("waveshard.wfdb_io.discovery.MAX_HEADER_BYTES", 2000)
    started = time.perf_counter()
    inventory = discover_segments(group)
    assert time.perf_counter() - started < 10
    problems = {p.segment: p for p in inventory.problems}
    assert problems["big"].error_type == "HeaderTooLarge"
    for problem in inventory.problems:
        assert len(problem.message) <= MESSAGE_LIMIT and problem.message.isprintable()
        assert len(problem.path) <= 2 * MESSAGE_LIMIT

"""Records placed on their timelines and reduced one segment at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.multirate import write_multirate_record
from waveshard.contract import window_features_table
from waveshard.extraction.boundary import run_segment
from waveshard.extraction.clinical_records import clinical_record, plan_records, record_windows
from waveshard.wfdb_io.discovery import discover_segments
from waveshard.wfdb_io.storage import GroupFolder


def _plans(root: Path, group: str):
    folder = GroupFolder.scan(group, str(root / group))
    found = discover_segments(folder)
    plans, problems = plan_records(folder, found.tasks, found.masters)
    return folder, {p.record: p for p in plans}, problems


def test_segments_sit_where_the_master_puts_them(physionet_tree: Path) -> None:
    _folder, plans, problems = _plans(physionet_tree, "39")
    assert problems == []
    plan = plans["s00001-2896-10-10-00-31"]
    assert plan.start == np.datetime64("2896-10-10T00:31:25.894", "ms")
    offsets = {p.task.segment: p.offset_s for p in plan.segments}
    assert offsets["3975656_0001"] == 3261 / 125
    assert offsets["3975656_0012"] == 14428365 / 125
    assert "3975656_0010" not in offsets  # its .dat is missing: a discovery problem
    assert [p.task.segment for p in plan.numerics] == ["s00001-2896-10-10-00-31n"]
    assert plan.numerics[0].offset_s == 0.0


def test_a_record_without_master_header(physionet_tree: Path) -> None:
    _folder, plans, _ = _plans(physionet_tree, "30")
    plan = plans["3000003"]
    assert plan.start is None  # a time of day, no date
    assert [(p.task.segment, p.offset_s) for p in plan.segments] == [("3000003_0003", 0.0)]


def test_loose_segments_are_placed_by_their_base_times(
    tmp_path: Path, physionet_tree: Path
) -> None:
    record = tmp_path / "32" / "3234460"
    record.mkdir(parents=True)
    for name in ("3234460_0001", "3234460_0012"):  # no master: placed by time of day
        for suffix in (".hea", ".dat"):
            shutil.copyfile(
                physionet_tree / "32" / "s25047" / f"{name}{suffix}", record / f"{name}{suffix}"
            )
    _folder, plans, _ = _plans(tmp_path, "32")
    offsets = {p.task.segment: p.offset_s for p in plans["3234460"].segments}
    # 10:47:44.449 and 10:52:04.298 in their own headers; the master (not copied
    # here) puts them 32,481 frames apart.
    assert offsets["3234460_0001"] == 0.0
    assert offsets["3234460_0012"] == pytest.approx(32481 / 125, abs=0.01)


def test_a_segment_the_master_does_not_list_is_a_warning(
    tmp_path: Path, physionet_tree: Path
) -> None:
    shutil.copytree(physionet_tree / "30", tmp_path / "30")
    record = tmp_path / "30" / "3000003"
    (record / "3000003.hea").write_text(
        "3000003/2 2 125 2028 19:46:25.757 01/02/2150\n~ 1000\n3000003_0004 1028\n"
    )
    _folder, plans, problems = _plans(tmp_path, "30")
    assert [(p.segment, p.error_type, p.severity) for p in problems] == [
        ("3000003_0003", "UnplacedSegment", "warning")
    ]
    assert plans["3000003"].segments == ()


def test_a_bad_segment_is_an_error_row_and_the_record_goes_on(
    tmp_path: Path, physionet_tree: Path
) -> None:
    shutil.copytree(physionet_tree / "39", tmp_path / "39")
    folder, plans, _ = _plans(tmp_path, "39")
    plan = plans["s00001-2896-10-10-00-31"]
    # Damage one segment after discovery: reading it now fails.
    dat = tmp_path / "39" / "s00001" / "3975656_0013.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    table, problems = record_windows(folder, plan)
    assert [(p.segment, p.error_type) for p in problems] == [("3975656_0013", "EOFError")]
    assert len(table) > 1900  # every other segment and the numerics still count
    assert table["hr_median_bpm"].notna().sum() > 290


def test_a_record_failure_stops_at_the_boundary(physionet_tree: Path) -> None:
    folder, plans, _ = _plans(physionet_tree, "39")
    plan = plans["s00001-2896-10-10-00-31"]

    def broken(folder, index, plan):
        raise RuntimeError("boom")

    outcome = run_segment(broken, folder, 0, plan)
    assert outcome.failed
    (problem,) = outcome.problems
    assert (problem.record, problem.segment, problem.error_type) == (
        plan.record,
        "",
        "RuntimeError",
    )
    assert problem.path.endswith("s00001-2896-10-10-00-31.hea")


def test_two_rates_in_one_record_give_hr_and_pressure(tmp_path: Path) -> None:
    write_multirate_record(tmp_path / "40" / "mr001")
    folder, plans, _ = _plans(tmp_path, "40")
    outcome = clinical_record(folder, 0, plans["mr001"])
    (table,) = outcome.payload
    assert outcome.problems == ()
    assert len(table) == 3
    assert table["window_start"].iloc[0] == pd.Timestamp("2150-01-01T08:00:00")
    assert table["hr_median_bpm"].between(70, 80).all()
    assert table["sbp_mmhg"].tolist() == pytest.approx([121.0] * 3, abs=0.5)
    assert (table["ecg_valid_fraction"] == 1.0).all()
    expected = window_features_table().dtypes
    assert table.dtypes.astype(str).to_dict() == dict(expected)

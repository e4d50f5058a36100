"""Exactness on real PhysioNet records and on the bundled sample, against wfdb."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest

from tests.support.exactness import (
    check_records_against_wfdb,
    check_segments_against_wfdb,
    run_group,
)
from tests.support.paths import PROJECT_ROOT

SIGNAL_NAMES = {"ABP": ["ART"], "MCL1": ["MCL"]}


def header_dirs(root: Path, group: str) -> dict[str, str]:
    return {
        p.stem: posixpath.dirname(p.relative_to(root / group).as_posix())
        for p in (root / group).rglob("*.hea")
    }


@pytest.mark.parametrize("group", ["30", "32", "39"])
@pytest.mark.parametrize("n_workers", [1, 2])
def test_real_records_equal_wfdb(physionet_tree: Path, group: str, n_workers: int) -> None:
    segments, records, _errors, summary = run_group(physionet_tree, group, n_workers, SIGNAL_NAMES)
    dirs = header_dirs(physionet_tree, group)
    assert check_segments_against_wfdb(physionet_tree, group, segments, dirs) > 0
    assert check_records_against_wfdb(physionet_tree, group, segments, records, dirs) > 0
    assert summary["segments_failed"] == 0
    assert segments["checksum_ok"].all()


def test_real_records_totals(physionet_tree: Path) -> None:
    """The numbers a reader can check by hand against the headers."""
    segments, _records, errors, summary = run_group(physionet_tree, "39", 2, SIGNAL_NAMES)
    assert summary["segments"] == 15 and summary["segments_ok"] == 15
    assert sorted(errors["error_type"]) == ["MissingDataFile"] * 3
    # segment 0005: 906259 samples of MCL1 and V
    seg = segments[segments["segment"] == "3975656_0005"]
    assert seg["n_samples"].tolist() == [906259, 906259]
    numerics = segments[segments["kind"] == "numerics"]
    assert set(numerics["fs"].round(9)) == {round(0.0166666666667, 9)}


@pytest.mark.parametrize("group", ["30", "35", "39"])
def test_bundled_sample_equals_wfdb(group: str) -> None:
    root = PROJECT_ROOT / "data" / "01_raw"
    segments, records, errors, summary = run_group(root, group, 2)
    dirs = header_dirs(root, group)
    assert summary["segments_ok"] == summary["segments"] > 0
    assert errors.empty
    check_segments_against_wfdb(root, group, segments, dirs)
    check_records_against_wfdb(root, group, segments, records, dirs)

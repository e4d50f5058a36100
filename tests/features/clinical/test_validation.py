"""Agreement with the bedside monitor's own numerics on real MIMIC records.

The monitor's per-minute HR and ABP systolic / diastolic / mean values are a
reference nobody here wrote. A minute counts when the monitor reports a value
(MIMIC writes 0 where it has none) and our quality flags call the signal
valid: at least 90 % of the minute usable (valid, not flat, not clipped, in
range), and for ABP at most 20 % of beats rejected by the quality rules.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from tests.support.clinical_records import header_start, record_pieces
from waveshard.extraction.clinical_records import plan_records, record_windows
from waveshard.features.clinical import window_features
from waveshard.wfdb_io.discovery import discover_segments
from waveshard.wfdb_io.storage import GroupFolder

RECORDS = {
    "s00001": ("39", "s00001-2896-10-10-00-31"),
    "s25047": ("32", "s25047-2704-05-04-10-44"),
}


def pipeline_table(root: Path, group: str, record: str) -> pd.DataFrame:
    """One record's windows the way the clinical pipeline computes them."""
    folder = GroupFolder.scan(group, str(root / group))
    found = discover_segments(folder)
    plans, _ = plan_records(folder, found.tasks, found.masters)
    table, problems = record_windows(folder, next(p for p in plans if p.record == record))
    assert problems == []
    return table


@pytest.fixture(scope="module")
def tables(physionet_tree: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pipeline_table(physionet_tree, group, record)
        for name, (group, record) in RECORDS.items()
    }


def test_pipeline_reader_and_placement_equal_wfdb(physionet_tree: Path, tables) -> None:
    """The pipeline's own reader and timeline give the table wfdb's reader gives."""
    folder = physionet_tree / "39" / "s00001"
    master = RECORDS["s00001"][1]
    header = wfdb.rdheader(str(folder / master))
    expected = window_features(record_pieces(folder, master), start_time=header_start(header))
    got = tables["s00001"].drop(columns=["group", "record"])
    pd.testing.assert_frame_equal(got, expected)


def usable(table: pd.DataFrame, kind: str) -> pd.Series:
    bad = (
        table[f"{kind}_flat_fraction"].fillna(0)
        + table[f"{kind}_clipped_fraction"].fillna(0)
        + table[f"{kind}_out_of_range_fraction"].fillna(0)
    )
    return (table[f"{kind}_valid_fraction"] - bad) >= 0.9


def hr_agreement(table: pd.DataFrame) -> tuple[int, int]:
    minutes = table[usable(table, "ecg") & table["monitor_hr"].notna()]
    close = (minutes["hr_median_bpm"] - minutes["monitor_hr"]).abs() <= 5
    return int(close.sum()), len(minutes)


def test_window_start_holds_mimic_dates_beyond_2262(tables) -> None:
    table = tables["s00001"]
    assert str(table["window_start"].dtype) == "datetime64[ms]"
    assert table["window_start"].iloc[0] == pd.Timestamp("2896-10-10T00:31:25.894")
    # The last ABP segment (0015) starts 14,458,365 samples after the base time.
    assert table["window_start"].iloc[-1] > pd.Timestamp("2896-10-11T08:00")
    assert table["window_start"].is_monotonic_increasing


def test_heart_rate_agrees_with_the_monitor(tables) -> None:
    s00001 = hr_agreement(tables["s00001"])
    s25047 = hr_agreement(tables["s25047"])
    pooled = (s00001[0] + s25047[0]) / (s00001[1] + s25047[1])
    figures = f"s00001 {s00001[0]}/{s00001[1]}, s25047 {s25047[0]}/{s25047[1]}, pooled {pooled:.3f}"
    assert s00001[1] >= 290 and s25047[1] >= 35, figures  # ~5 h and ~45 min of ECG
    assert s00001[0] / s00001[1] >= 0.95, figures
    assert pooled >= 0.95, figures


@pytest.mark.xfail(
    strict=True,
    reason="s25047 is paced: pacing spikes and wide paced complexes disagree with the "
    "monitor's count in ~20 % of its minutes (see README, validation)",
)
def test_heart_rate_agrees_with_the_monitor_on_the_paced_record(tables) -> None:
    close, minutes = hr_agreement(tables["s25047"])
    assert close / minutes >= 0.95


def _pressure_minutes(table: pd.DataFrame) -> pd.DataFrame:
    valid = usable(table, "abp") & (table["abp_rejected_fraction"] <= 0.2)
    return table[valid & table["monitor_abpmean"].notna()]


def test_pressures_track_the_monitor(tables) -> None:
    minutes = _pressure_minutes(tables["s00001"])
    assert len(minutes) >= 5
    for ours, monitor in (
        ("sbp_mmhg", "monitor_abpsys"),
        ("dbp_mmhg", "monitor_abpdias"),
        ("map_mmhg", "monitor_abpmean"),
    ):
        difference = (minutes[ours] - minutes[monitor]).abs()
        assert difference.median() <= 5, (ours, difference.round(1).tolist())
        assert difference.max() <= 12, (ours, difference.round(1).tolist())


@pytest.mark.xfail(
    strict=True,
    reason="the monitor's minute value is one reading, not the minute's average: in a "
    "minute whose pressure drifts or ends in an artifact it differs by up to ~10 mmHg "
    "(see README, validation)",
)
def test_every_valid_minute_within_5_mmhg(tables) -> None:
    minutes = _pressure_minutes(tables["s00001"])
    for ours, monitor in (
        ("sbp_mmhg", "monitor_abpsys"),
        ("dbp_mmhg", "monitor_abpdias"),
        ("map_mmhg", "monitor_abpmean"),
    ):
        assert ((minutes[ours] - minutes[monitor]).abs() <= 5).all()


def test_the_monitor_stamps_a_minute_at_its_start(tables) -> None:
    """Numerics stamped t match the ECG of [t, t + 60 s) better than [t - 60 s, t)."""
    table = tables["s00001"]
    valid = usable(table, "ecg") & table["hr_median_bpm"].notna()
    ours = table["hr_median_bpm"].where(valid).to_numpy()
    monitor = table["monitor_hr"].to_numpy()
    # Rows are consecutive minutes here (numerics cover the whole record).
    assert np.all(np.diff(table["window_offset_s"]) == 60.0)
    same = np.nanmean(np.abs(ours - monitor))
    stamped_at_end = np.nanmean(np.abs(ours[:-1] - monitor[1:]))
    assert same < 0.8 * stamped_at_end, (same, stamped_at_end)

"""Segments placed in time from the master header, checked on real MIMIC records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import wfdb

from tests.support.paths import PHYSIONET
from waveshard.wfdb_io.headers import parse_header
from waveshard.wfdb_io.timeline import (
    header_start,
    offset_between,
    record_timeline,
    segment_times,
    time_of_day,
)

S00001 = PHYSIONET / "s00001"
MASTER = S00001 / "s00001-2896-10-10-00-31.hea"
#: Its record line: "s00001-2896-10-10-00-31/21 4 125 14518365 00:31:25.894 10/10/2896".
MASTER_START = dt.datetime(2896, 10, 10, 0, 31, 25, 894000)
#: Its segment lines before 3975656_0012, in order ("~" = gap), lengths at 125 Hz.
BEFORE_0012 = [
    ("3975656_layout", 0),
    ("~", 3261),
    ("3975656_0001", 6750),
    ("3975656_0002", 125),
    ("3975656_0003", 1354),
    ("3975656_0004", 512),
    ("3975656_0005", 906259),
    ("~", 2604),
    ("3975656_0006", 1304941),
    ("3975656_0007", 1280),
    ("3975656_0008", 512),
    ("3975656_0009", 2210767),
    ("~", 172500),
    ("3975656_0010", 5760000),
    ("~", 157500),
    ("3975656_0011", 3900000),
]


def parse(path: Path):
    return parse_header(path.read_text())


def seconds(t: dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def test_segments_of_s00001_start_where_the_master_places_them() -> None:
    timeline = record_timeline(parse(MASTER))
    assert timeline.start == MASTER_START
    # By hand: 0001 follows the 0-length layout and a 3261-sample gap: 26.088 s in.
    assert timeline.offset("3975656_0001") == 3261
    assert timeline.start_of("3975656_0001") == dt.datetime(2896, 10, 10, 0, 31, 51, 982000)
    # 0006 follows a second gap: 920865 samples = 7366.92 s = 2:02:46.92 in.
    assert timeline.offset("3975656_0006") == 920865
    assert timeline.start_of("3975656_0006") == dt.datetime(2896, 10, 10, 2, 34, 12, 814000)
    # 0012 follows four gaps, past midnight: 14428365 samples = 115426.92 s in.
    assert timeline.offset("3975656_0012") == sum(n for _, n in BEFORE_0012) == 14428365
    assert timeline.start_of("3975656_0012") == dt.datetime(2896, 10, 11, 8, 35, 12, 814000)
    assert timeline.offset_s("3975656_0012") == pytest.approx(115426.92, abs=1e-9)
    # The master's own signal length is the whole span, gaps included.
    assert timeline.length == 14518365
    assert timeline.duration_s == pytest.approx(116146.92, abs=1e-9)
    assert timeline.offset("~") is None and timeline.start_of("nonexistent") is None


def test_timeline_agrees_with_every_segment_headers_own_time_of_day() -> None:
    """Segment headers carry a time without a date; the master's placement must match it."""
    timeline = record_timeline(parse(MASTER))
    checked = 0
    for placement in timeline.placements:
        path = S00001 / f"{placement.name}.hea"
        if placement.is_gap or placement.length == 0 or not path.exists():
            continue
        own = wfdb.rdheader(str(path.with_suffix(""))).base_time
        placed = timeline.start_of(placement.name)
        # MIMIC's segment headers are rounded to the millisecond independently.
        assert abs(seconds(placed.time()) - seconds(own)) <= 0.005, placement.name
        checked += 1
    assert checked == 16


@pytest.mark.parametrize("path", sorted(PHYSIONET.rglob("*.hea")), ids=lambda p: p.name)
def test_header_start_matches_wfdb(path: Path) -> None:
    ref = wfdb.rdheader(str(path.with_suffix("")))
    expected = (
        dt.datetime.combine(ref.base_date, ref.base_time)
        if ref.base_date is not None and ref.base_time is not None
        else None
    )
    assert header_start(parse(path)) == expected


def test_dates_missing_or_unreadable_give_no_start() -> None:
    no_date = parse_header("r/2 1 125 10 12:00:00\nr_1 4\n~ 6\n")
    assert header_start(no_date) is None
    assert record_timeline(no_date).start_of("r_1") is None
    assert record_timeline(no_date).offset("r_1") == 0
    bad_date = parse_header("r/1 1 125 10 12:00:00 31/02/2150\nr_1 10\n")
    assert header_start(bad_date) is None
    # damaged masters give no times rather than an exception
    no_clock = record_timeline(parse_header("r/1 1 0 10 12:00:00 01/02/2150\nr_1 10\n"))
    assert no_clock.start_of("r_1") is None and no_clock.duration_s is None
    far = record_timeline(parse_header("r/2 1 1 10 12:00:00 01/02/9999\n~ 99999999999\nr_1 1\n"))
    assert far.start_of("r_1") is None
    with pytest.raises(ValueError, match="not a multi-segment"):
        record_timeline(parse_header("r 1 125 10\nr.dat 80 1/mV 8 0 0 0 0 II\n"))


def test_segment_times_of_a_record_folder() -> None:
    """Waveform segments from the master, numerics from their own header."""

    class Task:
        def __init__(self, record: str, stem: str) -> None:
            self.record, self.segment = record, stem
            self.header_path = f"s00001/{stem}.hea"
            self.header = parse(S00001 / f"{stem}.hea")

    record = "s00001-2896-10-10-00-31"
    tasks = [
        Task(record, "3975656_0012"),
        Task(record, f"{record}n"),
        Task("3975656", "3975656_0001"),
    ]
    times = segment_times(tasks, {f"s00001/{record}.hea": parse(MASTER)})
    assert times[0].segment_start == dt.datetime(2896, 10, 11, 8, 35, 12, 814000)
    assert times[0].record_start == MASTER_START
    assert times[0].record_duration_s == pytest.approx(116146.92)
    # the numerics header "…n 10 0.0166666666667/125 1936    31:25.894 10/10/2896"
    assert times[1].segment_start == MASTER_START and times[1].record_start == MASTER_START
    # no master named 3975656 in that folder, and segment headers have no date
    assert times[2].segment_start is None and times[2].record_start is None
    assert times[2].record_duration_s is None


def test_time_of_day_with_leading_fields_left_out() -> None:
    numerics = parse_header((S00001 / "s00001-2896-10-10-00-31n.hea").read_text())
    assert numerics.base_time == "31:25.894"  # MM:SS.sss, the hours left out
    assert time_of_day(numerics) == pytest.approx(31 * 60 + 25.894)
    segment = parse_header((PHYSIONET / "s25047" / "3234460_0001.hea").read_text())
    assert time_of_day(segment) == pytest.approx(10 * 3600 + 47 * 60 + 44.449)
    assert header_start(segment) is None  # a time, no date
    assert time_of_day(parse_header("100 0 360 650000\n")) is None


def test_offset_between_dates_or_times_of_day() -> None:
    master = parse_header(MASTER.read_text())
    numerics = parse_header((S00001 / "s00001-2896-10-10-00-31n.hea").read_text())
    assert offset_between(master, numerics) == 0.0
    late = parse_header("a 1 125 10 23:59:00\na.dat 80 1 8 0 0 0 0 II\n")
    early = parse_header("b 1 125 10 00:01:00\nb.dat 80 1 8 0 0 0 0 II\n")
    assert offset_between(late, early) == 120.0  # past midnight
    assert offset_between(late, parse_header("c 1 125 10\nc.dat 80 1 8 0 0 0 0 II\n")) is None


def test_segments_own_times_agree_with_the_master_modulo_a_day() -> None:
    """What placing a record without master relies on: segment times of day are right."""
    master = parse_header(MASTER.read_text())
    timeline = record_timeline(master)
    for placement in timeline.placements:
        if placement.is_gap or placement.name.endswith("_layout"):
            continue
        segment = parse_header((S00001 / f"{placement.name}.hea").read_text())
        difference = (offset_between(master, segment) - placement.offset / master.fs) % 86400
        assert min(difference, 86400 - difference) < 0.01, placement.name

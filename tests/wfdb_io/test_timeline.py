"""Record timelines: base date and time beyond 2262, segment offsets with gaps."""

from __future__ import annotations

import numpy as np

from tests.support.paths import PHYSIONET
from waveshard.wfdb_io.headers import parse_header
from waveshard.wfdb_io.timeline import (
    base_datetime,
    offset_between,
    segment_offsets,
    time_of_day,
)


def _header(rel: str):
    return parse_header((PHYSIONET / rel).read_text())


def test_mimic_dates_beyond_pandas_nanoseconds() -> None:
    master = _header("s00001/s00001-2896-10-10-00-31.hea")
    start = base_datetime(master)
    assert start == np.datetime64("2896-10-10T00:31:25.894", "ms")
    assert start.dtype == np.dtype("datetime64[ms]")


def test_time_of_day_with_leading_fields_left_out() -> None:
    numerics = _header("s00001/s00001-2896-10-10-00-31n.hea")  # "31:25.894"
    assert numerics.base_time == "31:25.894"
    assert time_of_day(numerics) == 31 * 60 + 25.894
    segment = _header("s25047/3234460_0001.hea")  # time, no date
    assert time_of_day(segment) == 10 * 3600 + 47 * 60 + 44.449
    assert base_datetime(segment) is None
    assert time_of_day(parse_header("100 0 360 650000\n")) is None


def test_segment_offsets_count_gaps() -> None:
    master = _header("s00001/s00001-2896-10-10-00-31.hea")
    offsets = segment_offsets(master)
    assert offsets["3975656_0001"] == 3261  # after a 3261-frame gap
    assert offsets["3975656_0006"] == 3261 + 6750 + 125 + 1354 + 512 + 906259 + 2604
    assert offsets["3975656_0016"] == master.sig_len - 22500


def test_segment_offsets_agree_with_the_segments_own_base_times() -> None:
    """Segments carry a time of day only: equal to the master's offsets modulo a day."""
    master = _header("s00001/s00001-2896-10-10-00-31.hea")
    for name, frames in segment_offsets(master).items():
        if name.endswith("_layout"):
            continue
        segment = _header(f"s00001/{name}.hea")
        difference = (offset_between(master, segment) - frames / master.fs) % 86400
        assert min(difference, 86400 - difference) < 0.01, name


def test_offset_between_dates_or_times_of_day() -> None:
    master = _header("s00001/s00001-2896-10-10-00-31.hea")
    numerics = _header("s00001/s00001-2896-10-10-00-31n.hea")
    assert offset_between(master, numerics) == 0.0
    late = parse_header("a 1 125 10 23:59:00\na.dat 80 1 8 0 0 0 0 II\n")
    early = parse_header("b 1 125 10 00:01:00\nb.dat 80 1 8 0 0 0 0 II\n")
    assert offset_between(late, early) == 120.0  # past midnight
    assert offset_between(late, parse_header("c 1 125 10\nc.dat 80 1 8 0 0 0 0 II\n")) is None

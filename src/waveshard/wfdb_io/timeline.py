"""Where a record's segments lie in time: base date and time, segment offsets.

A multi-segment (master) header gives the record's start (base time and,
in MIMIC, base date) and its segments in order with their lengths in frames;
``~`` entries are gaps with no samples. A segment's offset is the sum of the
lengths before it, gaps included. Absolute times use numpy ``datetime64[ms]``:
MIMIC-III shifts dates into the 2100s-2900s, beyond pandas' nanosecond
timestamps (which end in 2262).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from wfdb.io.header import parse_header_content, rx_record

from waveshard.wfdb_io.headers import Header

_SECONDS_PER_DAY = 86_400.0


def _record_line(text: str) -> dict[str, str]:
    lines, _ = parse_header_content(text)
    match = rx_record.match(lines[0]) if lines else None
    return match.groupdict() if match else {}


def _time_of_day(text: str) -> float | None:
    """Seconds after midnight of ``[[HH:]MM:]SS[.sss]``, or None."""
    if not text:
        return None
    parts = [float(p) for p in text.split(":")]
    seconds = 0.0
    for scale, value in zip((1.0, 60.0, 3600.0), reversed(parts), strict=False):
        seconds += scale * value
    return seconds


def _date(text: str) -> dt.date | None:
    """A WFDB base date ``DD/MM/YYYY``, or None."""
    if not text:
        return None
    day, month, year = (int(p) for p in text.split("/"))
    return dt.date(year, month, day)


def base_time_of_day(header_text: str) -> float | None:
    """The header's base time in seconds after midnight, or None when absent."""
    return _time_of_day(_record_line(header_text).get("base_time", ""))


def base_datetime(header_text: str) -> np.datetime64 | None:
    """The header's base date and time as ``datetime64[ms]``, or None without a date.

    Args:
        header_text: The whole ``.hea`` text.

    Returns:
        The absolute start (a date without a time starts at midnight), or None
        when the header gives no base date.
    """
    fields = _record_line(header_text)
    date = _date(fields.get("base_date", ""))
    if date is None:
        return None
    seconds = _time_of_day(fields.get("base_time", "")) or 0.0
    day = np.datetime64(date.isoformat(), "ms")
    return day + np.timedelta64(round(seconds * 1000), "ms")


def segment_offsets(master: Header) -> dict[str, int]:
    """Offset in frames of each named segment from the record's start (gaps count).

    Args:
        master: A parsed multi-segment header.

    Returns:
        Segment name -> first frame on the record's timeline (the layout
        header, of length 0, sits at 0).
    """
    offsets: dict[str, int] = {}
    position = 0
    for ref in master.segments or ():
        if not ref.is_gap:
            offsets.setdefault(ref.name, position)
        position += ref.length
    return offsets


def offset_between(first_text: str, second_text: str) -> float | None:
    """Seconds from the start of one header's record to another's.

    Dates are used when both give one; otherwise the times of day (a second
    record that starts "earlier" in the day is taken to start the next day).
    None when either has no base time.
    """
    first, second = base_datetime(first_text), base_datetime(second_text)
    if first is not None and second is not None:
        return float((second - first) / np.timedelta64(1, "ms")) / 1000.0
    a, b = base_time_of_day(first_text), base_time_of_day(second_text)
    if a is None or b is None:
        return None
    return (b - a) % _SECONDS_PER_DAY

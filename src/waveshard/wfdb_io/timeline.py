"""Where a record's segments lie in time: base date and time, segment offsets.

A multi-segment (master) header gives the record's start (base time and, in
MIMIC, base date) and its segments in order with their lengths in frames;
``~`` entries are gaps with no samples. A segment's offset is the sum of the
lengths before it, gaps included. Absolute times use numpy ``datetime64[ms]``:
MIMIC-III shifts dates into the 2100s-2900s, beyond pandas' nanosecond
timestamps (which end in 2262).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from waveshard.wfdb_io.headers import Header

_SECONDS_PER_DAY = 86_400.0


def time_of_day(header: Header) -> float | None:
    """The base time in seconds after midnight (``[[HH:]MM:]SS[.sss]``), or None."""
    if not header.base_time:
        return None
    try:
        parts = [float(p) for p in header.base_time.split(":")]
    except ValueError:
        return None
    if len(parts) > 3:
        return None
    # Fields are seconds, minutes, hours from the right; leading ones may be absent.
    return sum(value * 60.0**i for i, value in enumerate(reversed(parts)))


def base_datetime(header: Header) -> np.datetime64 | None:
    """The base date and time as ``datetime64[ms]``, or None without a valid date.

    A date without a time starts at midnight.
    """
    if not header.base_date:
        return None
    try:
        day, month, year = (int(p) for p in header.base_date.split("/"))
        date = dt.date(year, month, day)
    except ValueError:
        return None
    seconds = time_of_day(header) or 0.0
    return np.datetime64(date.isoformat(), "ms") + np.timedelta64(round(seconds * 1000), "ms")


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


def offset_between(first: Header, second: Header) -> float | None:
    """Seconds from the start of one record to the start of another.

    Dates are used when both headers give one; otherwise the times of day, so
    the answer is only known modulo one day (a second record that starts
    "earlier" in the day is taken to start the next day; one that starts more
    than a day later cannot be told apart). None when either has no base time.
    """
    a, b = base_datetime(first), base_datetime(second)
    if a is not None and b is not None:
        return float((b - a) / np.timedelta64(1, "ms")) / 1000.0
    ta, tb = time_of_day(first), time_of_day(second)
    if ta is None or tb is None:
        return None
    return (tb - ta) % _SECONDS_PER_DAY

"""Where a record's segments lie in time: a parsed header in, offsets and start times out.

A multi-segment (master) header lists its segments in order with their lengths
in samples at the record's frequency; ``~`` gaps hold time but no data. A
segment therefore starts where everything listed before it, gaps included,
ends, and its absolute start is the master's base date and time plus that
offset. MIMIC shifts dates into the future (years 2100-2900), beyond what
nanosecond timestamps hold, so times here are :class:`datetime.datetime`
(microseconds, years up to 9999).

Pure: no file access, nothing but the parsed header. Any pipeline that joins
waveforms to other data in time (segments, clinical events) should place
segments with :func:`record_timeline` rather than from the segment headers'
own times, which carry no date.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from wfdb.io.header import wfdb_strptime

from waveshard.wfdb_io.headers import Header

#: WFDB writes base dates as DD/MM/YYYY.
_DATE_FORMAT = "%d/%m/%Y"


@dataclass(frozen=True, slots=True)
class Placement:
    """One line of a master header, placed on the record's timeline.

    Attributes:
        name: Segment record name, or ``~`` for a gap.
        offset: First sample of the segment on the record's timeline.
        length: Samples in the segment (or gap).
    """

    name: str
    offset: int
    length: int

    @property
    def is_gap(self) -> bool:
        return self.name == "~"


@dataclass(frozen=True)
class RecordTimeline:
    """A record's segments placed in time.

    Attributes:
        record: The master header's record name.
        fs: Samples per second of the timeline (the master's frequency).
        start: Absolute start (base date and time); ``None`` where the master
            gives no date or an unreadable one.
        placements: Every segment and gap, in the master's order.
    """

    record: str
    fs: float
    start: dt.datetime | None
    placements: tuple[Placement, ...]
    _offsets: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        offsets: dict[str, int] = {}
        for placement in self.placements:
            if not placement.is_gap:
                offsets.setdefault(placement.name, placement.offset)
        object.__setattr__(self, "_offsets", offsets)

    @property
    def length(self) -> int:
        """Samples from the first segment's start to the last one's end, gaps included."""
        return sum(p.length for p in self.placements)

    @property
    def has_clock(self) -> bool:
        """Whether samples can be turned into seconds (a damaged header may give fs 0)."""
        return math.isfinite(self.fs) and self.fs > 0

    @property
    def duration_s(self) -> float | None:
        """Seconds the record spans, gaps included; ``None`` without a usable frequency."""
        return self.length / self.fs if self.has_clock else None

    def offset(self, segment: str) -> int | None:
        """First sample of ``segment`` on the timeline, ``None`` if the master does not list it."""
        return self._offsets.get(segment)

    def offset_s(self, segment: str) -> float | None:
        """Seconds from the record's start to ``segment``'s first sample."""
        offset = self.offset(segment)
        return None if offset is None or not self.has_clock else offset / self.fs

    def start_of(self, segment: str) -> dt.datetime | None:
        """Absolute start of ``segment``; ``None`` without a record date or if not listed."""
        offset = self.offset(segment)
        if self.start is None or offset is None or not self.has_clock:
            return None
        try:
            return self.start + samples_to_timedelta(offset, self.fs)
        except OverflowError:  # past the year 9999: a damaged header, not a time
            return None


def samples_to_timedelta(samples: int, fs: float) -> dt.timedelta:
    """``samples`` at ``fs`` as a duration, rounded to the microsecond (not accumulated)."""
    return dt.timedelta(microseconds=round(samples * 1_000_000 / fs))


def header_start(header: Header) -> dt.datetime | None:
    """Base date and time of any header as one datetime; ``None`` if it has no (valid) date.

    WFDB allows a time without a date (segment headers of MIMIC-III have only a
    time); such a header has no absolute start.
    """
    if not header.base_date or not header.base_time:
        return None
    try:
        date = dt.datetime.strptime(header.base_date, _DATE_FORMAT).date()
        time = wfdb_strptime(header.base_time)
    except ValueError:
        return None
    return dt.datetime.combine(date, time)


def record_timeline(master: Header) -> RecordTimeline:
    """Place every segment of a master header on the record's timeline.

    Args:
        master: A parsed multi-segment header.

    Returns:
        The record's timeline: offsets in samples at ``master.fs``, gaps
        included, and the absolute start where the master has a date.

    Raises:
        ValueError: If ``master`` is not a multi-segment header.
    """
    if not master.is_multi_segment:
        raise ValueError(f"{master.record_name} is not a multi-segment (master) header")
    placements, offset = [], 0
    for ref in master.segments or ():
        placements.append(Placement(ref.name, offset, ref.length))
        offset += ref.length
    return RecordTimeline(master.record_name, master.fs, header_start(master), tuple(placements))


@dataclass(frozen=True, slots=True)
class SegmentTime:
    """When one segment (or numerics record) starts, and its record.

    Attributes:
        record_start: The record's start: its master's base date and time; for a
            record without a master, the earliest dated header among its segments.
        segment_start: A waveform segment's start placed on its master's
            timeline; a numerics record's (or a segment no master lists) own
            base date and time. ``None`` where no date is known.
        record_duration_s: Seconds the master spans, gaps included; ``None``
            without a master.
    """

    record_start: dt.datetime | None
    segment_start: dt.datetime | None
    record_duration_s: float | None


class _Segment(Protocol):
    """What :func:`segment_times` needs of a segment (a discovery ``SegmentTask``)."""

    record: str
    segment: str
    header_path: str
    header: Header


def segment_times(segments: Sequence[_Segment], masters: Mapping[str, Header]) -> list[SegmentTime]:
    """Start times of ``segments`` from their masters' timelines.

    Args:
        segments: Segments as discovery lists them (record, segment, header path
            relative to the group folder, parsed header).
        masters: Parsed master headers by path relative to the group folder; a
            segment's master is ``<its folder>/<record>.hea``.

    Returns:
        One :class:`SegmentTime` per segment, in order.
    """
    timelines: dict[str, RecordTimeline] = {}
    for path, master in masters.items():
        timelines[path] = record_timeline(master)

    def timeline_of(segment: _Segment) -> RecordTimeline | None:
        folder = posixpath.dirname(segment.header_path)
        return timelines.get(posixpath.join(folder, f"{segment.record}.hea"))

    own: list[dt.datetime | None] = []
    earliest: dict[tuple[str, str], dt.datetime] = {}
    for segment in segments:
        timeline = timeline_of(segment)
        start = timeline.start_of(segment.segment) if timeline is not None else None
        if timeline is None or timeline.offset(segment.segment) is None:
            start = header_start(segment.header)
        own.append(start)
        key = (posixpath.dirname(segment.header_path), segment.record)
        if start is not None and (key not in earliest or start < earliest[key]):
            earliest[key] = start

    times = []
    for segment, start in zip(segments, own, strict=True):
        timeline = timeline_of(segment)
        if timeline is not None:
            times.append(SegmentTime(timeline.start, start, timeline.duration_s))
        else:
            key = (posixpath.dirname(segment.header_path), segment.record)
            times.append(SegmentTime(earliest.get(key), start, None))
    return times


def time_of_day(header: Header) -> float | None:
    """The header's base time in seconds after midnight; ``None`` if absent or unreadable.

    Segment headers of MIMIC-III carry a time without a date; this is all they
    say about when they start.
    """
    if not header.base_time:
        return None
    try:
        moment = wfdb_strptime(header.base_time)
    except ValueError:
        return None
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6


def offset_between(first: Header, second: Header) -> float | None:
    """Seconds from the start of one header's record to the start of another's.

    Dates are used when both headers give one; otherwise the times of day, so
    the answer is only known modulo one day (a second record that starts
    "earlier" in the day is taken to start the next day; one that starts more
    than a day later cannot be told apart). ``None`` when either has no time.
    """
    a, b = header_start(first), header_start(second)
    if a is not None and b is not None:
        return (b - a).total_seconds()
    ta, tb = time_of_day(first), time_of_day(second)
    if ta is None or tb is None:
        return None
    return (tb - ta) % 86_400.0

"""Fast, strict parsing of WFDB header text, as wfdb reads it.

``wfdb.rdheader`` costs about a millisecond per header (it builds pandas lookups
for every field); a MIMIC-III group holds hundreds of thousands of headers. This
module parses the same syntax with wfdb's own public line patterns
(``wfdb.io.header``) and plain typecasts, and the tests check it field by field
against ``wfdb.rdheader``, on the real headers and on generated ones.

Where wfdb reads a header that is odd (bytes that are not ASCII, text its
patterns skip, a base time or date its reader rejects), the parsed header
carries a note saying so; discovery turns each note into a ``warning`` row.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from functools import lru_cache

from wfdb.io.header import parse_header_content, rx_record, rx_segment, rx_signal, wfdb_strptime

#: Digital value that marks an invalid sample, per storage format (as in wfdb).
INVALID_SAMPLE = {
    "80": -(2**7),
    "508": -(2**7),
    "310": -(2**9),
    "311": -(2**9),
    "212": -(2**11),
    "16": -(2**15),
    "61": -(2**15),
    "160": -(2**15),
    "516": -(2**15),
    "24": -(2**23),
    "524": -(2**23),
    "32": -(2**31),
    "8": None,
}

#: Storage formats wfdb reads (any other makes ``wfdb.rdrecord`` fail).
WFDB_FORMATS = frozenset(INVALID_SAMPLE)

#: Bytes per stored sample, as wfdb uses them to derive a signal length from a
#: file's size (0 for the FLAC formats, whose size says nothing about length).
BYTES_PER_SAMPLE = {
    "8": 1,
    "16": 2,
    "24": 3,
    "32": 4,
    "61": 2,
    "80": 1,
    "160": 2,
    "212": 1.5,
    "310": 4 / 3.0,
    "311": 4 / 3.0,
    "508": 0,
    "516": 0,
    "524": 0,
}

#: WFDB's rule: a gain written as 0 means 200 units per physical unit.
_DEFAULT_GAIN = 200.0
#: What a 64-bit integer column can hold.
INT64_RANGE = (-(2**63), 2**63 - 1)
#: Longest header line parsed (characters). Real lines are under a hundred; wfdb's
#: line patterns backtrack quadratically on long runs of word characters (a line
#: of 16,000 takes them over ten seconds, a megabyte never ends), so a longer line
#: is refused before any pattern sees it.
MAX_LINE = 1024


class HeaderError(ValueError):
    """A WFDB header that cannot be parsed."""


#: A note on a header that was read but is odd: ``(error_type, message)``.
Note = tuple[str, str]


def decode_header(data: bytes) -> tuple[str, list[Note]]:
    """The text of a header file, decoded as wfdb decodes it (ASCII, other bytes dropped).

    A byte-order mark or any other byte that is not ASCII is dropped, as
    ``wfdb.rdheader`` does; the returned note says how many were.
    """
    text = data.decode("ascii", errors="ignore")
    dropped = len(data) - len(text)
    if not dropped:
        return text, []
    bom = " (a UTF-8 byte-order mark among them)" if data.startswith(b"\xef\xbb\xbf") else ""
    return text, [
        (
            "HeaderNotAscii",
            f"{dropped} bytes of the header are not ASCII{bom}; they were dropped, as wfdb "
            "drops them",
        )
    ]


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal line of a single-segment header."""

    file_name: str
    fmt: str
    samps_per_frame: int
    skew: int
    byte_offset: int
    adc_gain: float
    baseline: int
    units: str
    adc_res: int
    adc_zero: int
    init_value: int | None
    checksum: int | None
    block_size: int
    name: str


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """One segment line of a multi-segment (master) header; ``~`` is a gap."""

    name: str
    length: int

    @property
    def is_gap(self) -> bool:
        return self.name == "~"


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed WFDB header: single-segment (``signals``) or multi-segment (``segments``).

    ``base_time`` and ``base_date`` are the record line's text as written (``""``
    where absent); :mod:`waveshard.wfdb_io.timeline` turns them into times, so a
    malformed date never makes the header unreadable.
    """

    record_name: str
    n_sig: int
    fs: float
    counter_freq: float | None
    sig_len: int | None  # None where the header gives none (wfdb: derived from the file)
    signals: tuple[Signal, ...] = ()
    segments: tuple[SegmentRef, ...] | None = None
    base_time: str = ""
    base_date: str = ""
    notes: tuple[Note, ...] = ()

    @property
    def is_multi_segment(self) -> bool:
        return self.segments is not None

    @property
    def is_layout(self) -> bool:
        """A layout header: signal specs only, no samples, ``~`` for every file."""
        return (
            not self.is_multi_segment
            and not self.sig_len
            and bool(self.signals)
            and all(s.file_name == "~" for s in self.signals)
        )

    @property
    def dat_files(self) -> tuple[str, ...]:
        """Data file names in signal order, without repeats and without ``~``."""
        seen: dict[str, None] = {}
        for signal in self.signals:
            if signal.file_name != "~":
                seen.setdefault(signal.file_name)
        return tuple(seen)


def _int_or(text: str, default: int | None) -> int | None:
    return int(text) if text else default


def _parse_signal(line: str, notes: list[Note]) -> Signal:
    match = rx_signal.match(line)
    if match is None:
        raise HeaderError(f"invalid signal line: {line!r}")
    g = match.groupdict()
    if not g["fmt"]:
        raise HeaderError(f"signal line has no storage format: {line!r}")
    try:
        gain = float(g["adc_gain"]) if g["adc_gain"] else _DEFAULT_GAIN
    except ValueError as exc:
        raise HeaderError(f"invalid gain in signal line: {line!r}") from exc
    if gain == 0:
        gain = _DEFAULT_GAIN
    if not math.isfinite(gain):
        notes.append(
            (
                "InvalidGain",
                f"gain {g['adc_gain']!r} is not a finite number: every physical value is "
                "0 (or NaN), as wfdb computes it",
            )
        )
    samps_per_frame = _int_or(g["samps_per_frame"], 1)
    if samps_per_frame == 0:
        notes.append(
            (
                "NoSamplesPerFrame",
                f"signal line {line!r} gives 0 samples per frame: the signal has no "
                "samples and the file's frames are read without it, as wfdb reads them",
            )
        )
    adc_zero = _int_or(g["adc_zero"], 0)
    return Signal(
        file_name=g["file_name"],
        fmt=g["fmt"],
        samps_per_frame=samps_per_frame,
        skew=_int_or(g["skew"], 0),
        byte_offset=_int_or(g["byte_offset"], 0),
        adc_gain=gain,
        # WFDB: an absent baseline defaults to the ADC zero.
        baseline=_int_or(g["baseline"], adc_zero),
        units=g["units"] or "mV",
        adc_res=_int_or(g["adc_res"], 0),
        adc_zero=adc_zero,
        init_value=_int_or(g["init_value"], None),
        checksum=_int_or(g["checksum"], None),
        block_size=_int_or(g["block_size"], 0),
        name=g["sig_name"].strip(),
    )


@lru_cache(maxsize=4096)
def _time_or_date_problem(base_time: str, base_date: str) -> str | None:
    """Why wfdb's reader rejects this base time or date, or None (cached: dates repeat)."""
    try:
        if base_time:
            wfdb_strptime(base_time)
        if base_date:
            datetime.datetime.strptime(base_date, "%d/%m/%Y")
    except ValueError as exc:
        return str(exc)
    return None


def _record_line_notes(line: str, match, fs: float, counter_freq: float | None) -> list[Note]:
    g = match.groupdict()
    notes: list[Note] = []
    ignored = line[match.end() :].strip()
    if ignored:
        notes.append(
            (
                "HeaderFieldIgnored",
                f"record line {line!r}: {ignored!r} is no WFDB field there and is ignored, as "
                "wfdb ignores it (a negative signal length, for one)",
            )
        )
    if not g["fs"] and counter_freq is not None:
        notes.append(
            (
                "HeaderFieldIgnored",
                f"record line {line!r}: {g['counter_freq']!r} is read as the counter "
                "frequency, as wfdb reads it; the sampling frequency is the default 250 Hz",
            )
        )
    if not math.isfinite(fs):
        notes.append(
            (
                "InvalidSamplingFrequency",
                f"sampling frequency {g['fs'][:40]!r} is not a finite number; wfdb refuses "
                "the header (it casts the frequency to an integer), the samples do not "
                "depend on it and are extracted, duration_s is left empty",
            )
        )
    refused = _time_or_date_problem(g["base_time"], g["base_date"])
    if refused:
        notes.append(
            (
                "HeaderFieldInvalid",
                f"base time/date of {line!r} is invalid ({refused}); wfdb refuses the header, "
                "the samples do not depend on it and are extracted",
            )
        )
    return notes


def parse_header(text: str) -> Header:
    """Parse the text of a WFDB ``.hea`` file.

    Args:
        text: The whole header file content (see :func:`decode_header`).

    Returns:
        The parsed header, with notes on what wfdb reads but is odd.

    Raises:
        HeaderError: If the record line, a signal line or a segment line is
            malformed, the number of signal lines disagrees with the record line,
            or a line is longer than
            :data:`MAX_LINE`: everything that makes ``wfdb.rdrecord`` refuse the
            header (or never finish reading it) for a reason its samples depend on.
    """
    lines, _comments = parse_header_content(text)
    if not lines:
        raise HeaderError("header has no record line")
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE:
            raise HeaderError(
                f"line {number} is {len(line)} characters long (WFDB header lines are short; "
                f"more than {MAX_LINE} are not parsed): {line[:40]!r}"
            )
    match = rx_record.match(lines[0])
    if match is None or not match.group("n_sig"):
        raise HeaderError(f"invalid record line: {lines[0]!r}")
    g = match.groupdict()
    try:
        fs = float(g["fs"]) if g["fs"] else 250.0
        counter_freq = float(g["counter_freq"]) if g["counter_freq"] else None
    except ValueError as exc:
        raise HeaderError(f"invalid sampling frequency in record line: {lines[0]!r}") from exc
    if math.isfinite(fs) and round(fs, 8) == float(int(fs)):
        fs = float(int(fs))  # as wfdb reads it: within 1e-8 of a whole number is that number
    n_sig = int(g["n_sig"])
    sig_len = int(g["sig_len"]) if g["sig_len"] else None
    base = {"base_time": g["base_time"] or "", "base_date": g["base_date"] or ""}
    notes = _record_line_notes(lines[0], match, fs, counter_freq)
    body = lines[1:]

    if g["n_seg"]:
        n_seg = int(g["n_seg"])
        if len(body) != n_seg:
            # wfdb reads every line after the record line as a segment line.
            notes.append(
                (
                    "SegmentCountMismatch",
                    f"record line promises {n_seg} segments, {len(body)} segment lines follow; "
                    "every line is read as a segment, as wfdb reads them",
                )
            )
        segments = []
        for line in body:
            seg = rx_segment.match(line)
            if seg is None:
                raise HeaderError(f"invalid segment line: {line!r}")
            segments.append(SegmentRef(seg.group("seg_name"), int(seg.group("seg_len"))))
        return Header(
            g["record_name"],
            n_sig,
            fs,
            counter_freq,
            sig_len,
            (),
            tuple(segments),
            notes=tuple(notes),
            **base,
        )

    if n_sig == 0:
        # wfdb reads a record of no signals (whatever lines follow): nothing to extract.
        return Header(
            g["record_name"], 0, fs, counter_freq, sig_len, (), None, notes=tuple(notes), **base
        )
    if len(body) != n_sig:
        # wfdb takes every line after the record line as a signal line and fails
        # when their number is not n_sig; the file's interleaving depends on it.
        raise HeaderError(f"record line promises {n_sig} signals, found {len(body)} signal lines")
    signals = tuple(_parse_signal(line, notes) for line in body)
    for signal in signals:
        if not INT64_RANGE[0] <= signal.baseline <= INT64_RANGE[1]:
            notes.append(
                (
                    "BaselineOutOfRange",
                    f"baseline {signal.baseline} of signal {signal.name!r} does not fit a "
                    "64-bit integer: the statistics use it as wfdb does, the baseline "
                    "column is left empty",
                )
            )
    return Header(
        g["record_name"],
        n_sig,
        fs,
        counter_freq,
        sig_len,
        signals,
        None,
        notes=tuple(notes),
        **base,
    )

"""Fast, strict parsing of WFDB header text.

``wfdb.rdheader`` costs about a millisecond per header (it builds pandas lookups
for every field); a MIMIC-III group holds hundreds of thousands of headers. This
module parses the same syntax with wfdb's own public line patterns
(``wfdb.io.header``) and plain typecasts, and the tests check it field by field
against ``wfdb.rdheader``.
"""

from __future__ import annotations

from dataclasses import dataclass

from wfdb.io.header import parse_header_content, rx_record, rx_segment, rx_signal

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

#: WFDB's rule: a gain written as 0 means 200 units per physical unit.
_DEFAULT_GAIN = 200.0


class HeaderError(ValueError):
    """A WFDB header that cannot be parsed."""


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
    sig_len: int
    signals: tuple[Signal, ...] = ()
    segments: tuple[SegmentRef, ...] | None = None
    base_time: str = ""
    base_date: str = ""

    @property
    def is_multi_segment(self) -> bool:
        return self.segments is not None

    @property
    def is_layout(self) -> bool:
        """A layout header: signal specs only, no samples, ``~`` for every file."""
        return (
            not self.is_multi_segment
            and self.sig_len == 0
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


def _parse_signal(line: str) -> Signal:
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
    adc_zero = _int_or(g["adc_zero"], 0)
    return Signal(
        file_name=g["file_name"],
        fmt=g["fmt"],
        samps_per_frame=_int_or(g["samps_per_frame"], 1),
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


def parse_header(text: str) -> Header:
    """Parse the text of a WFDB ``.hea`` file.

    Args:
        text: The whole header file content.

    Returns:
        The parsed header.

    Raises:
        HeaderError: If the record line, a signal line or a segment line is
            malformed, or the number of lines disagrees with the record line.
    """
    lines, _comments = parse_header_content(text)
    if not lines:
        raise HeaderError("header has no record line")
    match = rx_record.match(lines[0])
    if match is None or not match.group("n_sig"):
        raise HeaderError(f"invalid record line: {lines[0]!r}")
    g = match.groupdict()
    try:
        fs = float(g["fs"]) if g["fs"] else 250.0
        counter_freq = float(g["counter_freq"]) if g["counter_freq"] else None
    except ValueError as exc:
        raise HeaderError(f"invalid sampling frequency in record line: {lines[0]!r}") from exc
    n_sig = int(g["n_sig"])
    sig_len = int(g["sig_len"]) if g["sig_len"] else 0
    base = {"base_time": g["base_time"] or "", "base_date": g["base_date"] or ""}
    body = lines[1:]

    if g["n_seg"]:
        n_seg = int(g["n_seg"])
        if len(body) < n_seg:
            raise HeaderError(f"record line promises {n_seg} segments, found {len(body)} lines")
        segments = []
        for line in body[:n_seg]:
            seg = rx_segment.match(line)
            if seg is None:
                raise HeaderError(f"invalid segment line: {line!r}")
            segments.append(SegmentRef(seg.group("seg_name"), int(seg.group("seg_len"))))
        return Header(
            g["record_name"], n_sig, fs, counter_freq, sig_len, (), tuple(segments), **base
        )

    if len(body) < n_sig:
        raise HeaderError(f"record line promises {n_sig} signals, found {len(body)} lines")
    signals = tuple(_parse_signal(line) for line in body[:n_sig])
    return Header(g["record_name"], n_sig, fs, counter_freq, sig_len, signals, **base)

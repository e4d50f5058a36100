"""Header-driven discovery of every segment in a patient-group folder.

Records are never derived from ``.dat`` names: every ``.hea`` file is parsed,
master (multi-segment) headers map their segments and layout header to a record,
numerics headers join the record whose master shares their name, and data files
are the ones the signal lines name. Whatever cannot be extracted becomes an
``error`` :class:`Problem`, whatever is extracted but odd a ``warning``, so each
header found ends up either as a :class:`SegmentTask` or as an error row. Each
header is parsed here, once, and every step on one header runs behind the
isolation boundary (:mod:`waveshard.isolation`).

The rule for what is extracted is wfdb's: a segment ``wfdb.rdrecord`` reads is
extracted (with a warning where something about it is odd); see the README's
policy table for each case.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from dataclasses import dataclass, field

from waveshard.contract import NUMERICS, WARNING, WAVEFORM, Problem
from waveshard.isolation import Refused, Where, isolate
from waveshard.wfdb_io.headers import (
    BYTES_PER_SAMPLE,
    WFDB_FORMATS,
    Header,
    decode_header,
    parse_header,
)
from waveshard.wfdb_io.storage import GroupFolder

#: Bits per stored sample (numerator, denominator) for the formats whose file
#: size we can predict; integers, so that absurd lengths cannot overflow a float.
_BITS_PER_SAMPLE = {
    "8": (8, 1),
    "16": (16, 1),
    "24": (24, 1),
    "32": (32, 1),
    "61": (16, 1),
    "80": (8, 1),
    "160": (16, 1),
    "212": (12, 1),
    "310": (32, 3),
    "311": (32, 3),
}
_SEGMENT_SUFFIX = re.compile(r"_\d+$")
#: Largest header file read (bytes). MIMIC-III's largest headers (masters of
#: records with thousands of segments) are tens of kB; a file this size is not a
#: header, and reading it whole could exhaust memory.
MAX_HEADER_BYTES = 16 * 2**20


@dataclass(frozen=True)
class SegmentTask:
    """One single-segment WFDB record to extract.

    Attributes:
        group: Patient-group id.
        record: Record the segment belongs to (the master header's name).
        segment: The segment's own record name (header file stem).
        kind: ``"waveform"`` or ``"numerics"``.
        header_path: Header path relative to the group folder.
        header: The parsed header.
        dat_paths: Data file paths relative to the group folder, in
            ``header.dat_files`` order.
        dat_bytes: Total size of the data files.
        sig_len: Frames to read: the header's signal length, or where it gives
            none, the length wfdb derives from the first data file's size.
    """

    group: str
    record: str
    segment: str
    kind: str
    header_path: str
    header: Header
    dat_paths: tuple[str, ...]
    dat_bytes: int
    sig_len: int


@dataclass
class Discovery:
    """What discovery found in one group folder.

    ``masters`` holds each parsed master header by its path relative to the group
    folder, for placing segments in time (:mod:`waveshard.wfdb_io.timeline`).
    """

    group: str
    tasks: list[SegmentTask] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    records: set[str] = field(default_factory=set)
    headers: int = 0
    ignored_files: list[str] = field(default_factory=list)
    masters: dict[str, Header] = field(default_factory=dict)
    #: Where the group folder is, as a user would type it (for problem rows).
    folder_url: str = ""

    def header_url(self, task: SegmentTask) -> str:
        """Where a segment's header is, as a user would type it."""
        return posixpath.join(self.folder_url, task.header_path)


#: Something odd about a segment that is still extracted: ``(error_type, message, path)``
#: (``path`` None: the header itself).
Oddity = tuple[str, str, str | None]


def expected_dat_bytes(header: Header, file_name: str, sig_len: int) -> tuple[int, int] | None:
    """Smallest and largest plausible size of one data file, or None if unknown."""
    signals = [s for s in header.signals if s.file_name == file_name]
    bits = {_BITS_PER_SAMPLE.get(s.fmt) for s in signals}
    if None in bits or len(bits) != 1:
        return None
    numerator, denominator = bits.pop()
    samples = sig_len * sum(s.samps_per_frame for s in signals)
    payload_bits, per_byte = samples * numerator, denominator * 8
    offset = signals[0].byte_offset
    low = offset + payload_bits // per_byte
    if payload_bits % per_byte == 0:
        return low, low
    # Packed formats (212, 310, 311) may pad their last group of samples.
    return low, offset + -(-payload_bits // per_byte) + 3


def _record_for_loose_segment(stem: str) -> tuple[str, str]:
    """Record and kind of a segment header that no master lists."""
    if stem.endswith("n"):
        return stem[:-1], NUMERICS
    return _SEGMENT_SUFFIX.sub("", stem), WAVEFORM


def _stem(rel: str) -> str:
    return posixpath.basename(rel)[: -len(".hea")]


def _is_plain_name(name: str) -> bool:
    """A file name that stays in its header's folder: no separators, not ``.``/``..``."""
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..")


def _signal_length(group: GroupFolder, header: Header, folder: str) -> tuple[int, list[Oddity]]:
    """The frames to read, and the warning when they come from a file's size (wfdb's rule)."""
    if header.sig_len is not None:
        return header.sig_len, []
    first = header.signals[0]
    rel = posixpath.join(folder, first.file_name)
    size = group.files.get(rel)
    if first.file_name == "~" or size is None:
        raise Refused(
            "MissingDataFile",
            f"the header gives no signal length and its first data file {first.file_name} "
            "does not exist to derive it from (wfdb derives it from that file's size)",
            group.url(rel),
        )
    per_sample = BYTES_PER_SAMPLE[first.fmt]
    if per_sample == 0:
        raise Refused(
            "UnknownSignalLength",
            f"the header gives no signal length and format {first.fmt} is compressed, so "
            "the length cannot be derived from the file's size (wfdb cannot either): add "
            "the length to the record line",
        )
    frame = sum(s.samps_per_frame for s in header.signals if s.file_name == first.file_name)
    if frame == 0:
        raise Refused(
            "UnknownSignalLength",
            f"the header gives no signal length and the signals of {first.file_name} have "
            "0 samples per frame, so no length can be derived (wfdb cannot either)",
        )
    # Exactly wfdb's arithmetic (wfdb.io._signal._infer_sig_len).
    sig_len = int((size - first.byte_offset) / (per_sample * frame))
    if sig_len < 0:
        raise Refused(
            "TruncatedDataFile",
            f"{first.file_name} has {size} bytes, fewer than its byte offset "
            f"{first.byte_offset}: there are no samples",
            group.url(rel),
        )
    note = (
        "SignalLengthFromFile",
        f"the header gives no (valid) signal length; {sig_len} frames derived from the size "
        f"of {first.file_name} ({size} bytes), as wfdb derives them",
        group.url(rel),
    )
    return sig_len, [note]


def _check_data_files(
    group: GroupFolder, header: Header, folder: str, sig_len: int
) -> tuple[tuple[str, ...], int, list[Oddity]]:
    """Data file paths, their total size and oddities; raises :class:`Refused`."""
    dat_paths = tuple(posixpath.join(folder, name) for name in header.dat_files)
    total, oddities = 0, []
    for name, rel in zip(header.dat_files, dat_paths, strict=True):
        size = group.files.get(rel)
        full = group.url(rel)
        if size is None:
            if sig_len == 0:
                continue  # a zero-length segment needs no samples
            if rel in group.links:
                raise Refused("SymlinkNotFollowed", f"{name} is {group.links[rel]}", full)
            what = "is a folder, not a file" if rel in group.dirs else "does not exist"
            raise Refused("MissingDataFile", f"the header names {name}, which {what}", full)
        total += size
        bounds = expected_dat_bytes(header, name, sig_len)
        if bounds is None:
            continue
        low, high = bounds
        if size == 0 and low > 0:
            raise Refused(
                "EmptyDataFile", f"{name} is empty; the header promises {sig_len} samples", full
            )
        if size < low:
            raise Refused(
                "TruncatedDataFile",
                f"{name} has {size} bytes; the header promises {sig_len} samples ({low} bytes); "
                "wfdb refuses it too: copy the file again",
                full,
            )
        if size > high:
            oddities.append(
                (
                    "DataLengthMismatch",
                    f"{name} has {size} bytes; the header promises {sig_len} samples "
                    f"({high} bytes): the first {sig_len} are extracted, as wfdb reads them",
                    full,
                )
            )
    return dat_paths, total, oddities


def _segment_task(
    group: GroupFolder, rel: str, header: Header, record: str, kind: str
) -> tuple[SegmentTask, list[Oddity]]:
    """The task of one segment header and its oddities; raises :class:`Refused`."""
    if not header.signals:
        raise Refused("NoSignals", "the header declares no signals: there is nothing to extract")
    for signal in header.signals:
        if signal.file_name != "~" and not _is_plain_name(signal.file_name):
            raise Refused(
                "UnsafeFileName",
                f"data file name {signal.file_name!r} leaves the header's folder; nothing "
                "outside the group folder is read",
            )
        if signal.fmt not in WFDB_FORMATS:
            raise Refused(
                "UnsupportedFormat",
                f"signal {signal.name!r} is stored in format {signal.fmt}, which wfdb does not "
                f"read (formats: {', '.join(sorted(WFDB_FORMATS, key=int))})",
            )
    folder = posixpath.dirname(rel)
    sig_len, length_notes = _signal_length(group, header, folder)
    dat_paths, dat_bytes, oddities = _check_data_files(group, header, folder, sig_len)
    task = SegmentTask(
        group.group, record, _stem(rel), kind, rel, header, dat_paths, dat_bytes, sig_len=sig_len
    )
    return task, [*length_notes, *oddities]


def _parse(data: bytes) -> Header:
    """Decode and parse one header file; a header no WFDB reader accepts is refused."""
    text, notes = decode_header(data)
    try:
        header = parse_header(text)
    except ValueError as exc:  # HeaderError, or a number no reader accepts
        raise Refused("UnparsableHeader", str(exc)) from None
    return dataclasses.replace(header, notes=(*notes, *header.notes))


def _read_headers(
    group: GroupFolder, header_paths: list[str]
) -> tuple[dict[str, Header], dict[str, Problem]]:
    """Parsed headers, and for the others the error row (record not yet known)."""
    headers: dict[str, Header] = {}
    failed: dict[str, Problem] = {}
    to_read = []
    for rel in header_paths:
        where = Where(group.group, "", _stem(rel), group.url(rel))
        if rel in group.links:
            failed[rel] = where.problem("UnreadableHeader", f"the header is {group.links[rel]}")
        elif group.files[rel] > MAX_HEADER_BYTES:
            failed[rel] = where.problem(
                "HeaderTooLarge",
                f"{group.files[rel]} bytes, more than any WFDB header (at most "
                f"{MAX_HEADER_BYTES} bytes are read); not read",
            )
        else:
            to_read.append(rel)
    for rel, data in group.read_many(to_read).items():
        where = Where(group.group, "", _stem(rel), group.url(rel))
        if isinstance(data, Exception):
            failed[rel] = where.problem("UnreadableHeader", f"{type(data).__name__}: {data}")
            continue
        parsed = isolate(lambda data=data: _parse(data), where, "parsing the header")
        if isinstance(parsed, Problem):
            failed[rel] = parsed
        else:
            headers[rel] = parsed
    return headers, failed


def discover_segments(group: GroupFolder) -> Discovery:
    """Find every segment of a group folder by parsing its headers.

    Args:
        group: The listed group folder.

    Returns:
        Segment tasks; problems: ``error`` rows for what cannot be extracted
        (unreadable or unparsable headers, segments a master lists that are
        absent, missing, truncated or unsafe data files, unsupported formats),
        ``warning`` rows for what is extracted but odd (see the README's policy
        table) and for data files no header names; record names and the
        non-WFDB files that were passed over.
    """
    found = Discovery(group.group, folder_url=group.url(""))
    header_paths = sorted(rel for rel in (*group.files, *group.links) if rel.endswith(".hea"))
    found.headers = len(header_paths)
    headers, failed = _read_headers(group, header_paths)

    # Masters first: they decide which record each segment and layout belongs to.
    owner: dict[str, str] = {}
    masters: dict[tuple[str, str], str] = {}
    for rel, header in headers.items():
        if not header.is_multi_segment:
            continue
        folder, record = posixpath.dirname(rel), _stem(rel)
        masters[(folder, record)] = record
        found.masters[rel] = header
        found.records.add(record)
        for ref in header.segments or ():
            if ref.is_gap or not _is_plain_name(ref.name):
                continue
            seg_rel = posixpath.join(folder, ref.name + ".hea")
            if seg_rel not in group.files and seg_rel not in group.links:
                found.problems.append(
                    Problem(
                        group.group,
                        record,
                        ref.name,
                        group.url(seg_rel),
                        "MissingSegment",
                        f"master header {rel} lists segment {ref.name} ({ref.length} samples), "
                        "whose header does not exist",
                    )
                )
            elif owner.setdefault(seg_rel, record) != record:
                found.problems.append(
                    Problem(
                        group.group,
                        record,
                        ref.name,
                        group.url(seg_rel),
                        "SegmentListedTwice",
                        f"segment {ref.name} is listed by masters {owner[seg_rel]} and "
                        f"{record}; it is extracted once, for {owner[seg_rel]}",
                        WARNING,
                    )
                )

    def record_and_kind(rel: str) -> tuple[str, str]:
        if rel in owner:
            return owner[rel], WAVEFORM
        record, kind = _record_for_loose_segment(_stem(rel))
        return masters.get((posixpath.dirname(rel), record), record), kind

    for rel, problem in failed.items():
        found.problems.append(dataclasses.replace(problem, record=record_and_kind(rel)[0]))

    referenced_dat: set[str] = set()
    for rel, header in headers.items():
        record, kind = record_and_kind(rel)
        where = Where(group.group, record, _stem(rel), group.url(rel))
        found.problems.extend(where.problem(t, m, WARNING) for t, m in header.notes)
        if header.is_multi_segment or header.is_layout:
            continue
        found.records.add(record)
        folder = posixpath.dirname(rel)
        referenced_dat.update(
            posixpath.join(folder, s.file_name) for s in header.signals if s.file_name != "~"
        )
        outcome = isolate(
            lambda rel=rel, header=header, record=record, kind=kind: _segment_task(
                group, rel, header, record, kind
            ),
            where,
            "checking the segment's data files",
        )
        if isinstance(outcome, Problem):
            found.problems.append(outcome)
            continue
        task, oddities = outcome
        found.problems.extend(where.problem(t, m, WARNING, path) for t, m, path in oddities)
        found.tasks.append(task)

    for rel in sorted({*group.files, *group.links}):
        if rel.endswith(".hea") or rel in referenced_dat:
            continue
        # A broken header already has its row; its data file is no extra news.
        if rel.endswith(".dat") and rel[: -len(".dat")] + ".hea" not in failed:
            stem = posixpath.basename(rel)[: -len(".dat")]
            found.problems.append(
                Problem(
                    group.group,
                    _record_for_loose_segment(stem)[0],
                    stem,
                    group.url(rel),
                    "OrphanDataFile",
                    "no header in the folder names this data file; it is not read",
                    WARNING,
                )
            )
        elif not rel.endswith(".dat"):
            found.ignored_files.append(rel)
    return found

"""Header-driven discovery of every segment in a patient-group folder.

Records are never derived from ``.dat`` names: every ``.hea`` file is parsed,
master (multi-segment) headers map their segments and layout header to a record,
numerics headers join the record whose master shares their name, and data files
are the ones the signal lines name. Whatever cannot be extracted becomes a
:class:`Problem`, so each header found ends up either as a :class:`SegmentTask`
or as a problem row. Each header is parsed here, once.
"""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass, field

from waveshard.contract import NUMERICS, WAVEFORM, Problem
from waveshard.wfdb_io.headers import Header, parse_header
from waveshard.wfdb_io.storage import GroupFolder

#: Bits per stored sample for the formats whose file size we can predict.
_BITS_PER_SAMPLE = {
    "8": 8,
    "16": 16,
    "24": 24,
    "32": 32,
    "61": 16,
    "80": 8,
    "160": 16,
    "212": 12,
    "310": 32 / 3,
    "311": 32 / 3,
}
_SEGMENT_SUFFIX = re.compile(r"_\d+$")


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
    """

    group: str
    record: str
    segment: str
    kind: str
    header_path: str
    header: Header
    dat_paths: tuple[str, ...]
    dat_bytes: int


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


def expected_dat_bytes(header: Header, file_name: str) -> tuple[int, int] | None:
    """Smallest and largest plausible size of one data file, or None if unknown."""
    signals = [s for s in header.signals if s.file_name == file_name]
    bits = {_BITS_PER_SAMPLE.get(s.fmt) for s in signals}
    if None in bits or len(bits) != 1:
        return None
    samples = header.sig_len * sum(s.samps_per_frame for s in signals)
    payload = samples * bits.pop() / 8
    offset = signals[0].byte_offset
    # Packed formats (212, 310, 311) may pad their last group of samples.
    padding = 0 if float(payload).is_integer() else 3
    return offset + math.floor(payload), offset + math.ceil(payload) + padding


def _record_for_loose_segment(stem: str) -> tuple[str, str]:
    """Record and kind of a segment header that no master lists."""
    if stem.endswith("n"):
        return stem[:-1], NUMERICS
    return _SEGMENT_SUFFIX.sub("", stem), WAVEFORM


def _check_data_files(
    group: GroupFolder, record: str, stem: str, header_path: str, header: Header
) -> tuple[tuple[str, ...], int, Problem | None]:
    folder = posixpath.dirname(header_path)
    dat_paths = tuple(posixpath.join(folder, name) for name in header.dat_files)
    total = 0
    for name, rel in zip(header.dat_files, dat_paths, strict=True):
        size = group.files.get(rel)
        full = group.url(rel)

        def problem(kind: str, message: str, full: str = full) -> Problem:
            return Problem(group.group, record, stem, full, kind, message)

        if size is None:
            if header.sig_len == 0:
                continue  # a zero-length segment needs no samples
            return (
                dat_paths,
                total,
                problem(
                    "MissingDataFile", f"header {header_path} names {name}, which does not exist"
                ),
            )
        total += size
        bounds = expected_dat_bytes(header, name)
        if bounds is None:
            continue
        low, high = bounds
        if size == 0 and low > 0:
            return (
                dat_paths,
                total,
                problem(
                    "EmptyDataFile", f"{name} is empty; header promises {header.sig_len} samples"
                ),
            )
        if size < low:
            return (
                dat_paths,
                total,
                problem(
                    "TruncatedDataFile",
                    f"{name} has {size} bytes; header promises {header.sig_len} samples "
                    f"({low} bytes)",
                ),
            )
        if size > high:
            return (
                dat_paths,
                total,
                problem(
                    "DataLengthMismatch",
                    f"{name} has {size} bytes; header promises {header.sig_len} samples "
                    f"({high} bytes)",
                ),
            )
    return dat_paths, total, None


def discover_segments(group: GroupFolder) -> Discovery:
    """Find every segment of a group folder by parsing its headers.

    Args:
        group: The listed group folder.

    Returns:
        Segment tasks, problems (unparsable headers, segments a master lists that
        are absent, missing or mis-sized data files, data files no header names),
        record names and the non-WFDB files that were passed over.
    """
    found = Discovery(group.group)
    headers: dict[str, Header] = {}
    unparsable: set[str] = set()
    header_paths = sorted(rel for rel in group.files if rel.endswith(".hea"))
    found.headers = len(header_paths)
    for rel, text in group.read_texts(header_paths).items():
        stem = posixpath.basename(rel)[: -len(".hea")]
        if isinstance(text, Exception):
            problem = ("UnreadableHeader", f"{type(text).__name__}: {text}")
        else:
            try:
                headers[rel] = parse_header(text)
                continue
            except ValueError as exc:  # HeaderError, or a value no WFDB reader accepts
                problem = ("UnparsableHeader", str(exc))
        unparsable.add(rel[: -len(".hea")])
        record, _ = _record_for_loose_segment(stem)
        found.problems.append(Problem(group.group, record, stem, group.url(rel), *problem))

    # Masters first: they decide which record each segment and layout belongs to.
    owner: dict[str, str] = {}
    masters: dict[tuple[str, str], str] = {}
    for rel, header in headers.items():
        if not header.is_multi_segment:
            continue
        folder = posixpath.dirname(rel)
        record = posixpath.basename(rel)[: -len(".hea")]
        masters[(folder, record)] = record
        found.masters[rel] = header
        found.records.add(record)
        for ref in header.segments or ():
            if ref.is_gap:
                continue
            seg_rel = posixpath.join(folder, ref.name + ".hea")
            if seg_rel not in group.files:
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
            else:
                owner.setdefault(seg_rel, record)

    referenced_dat: set[str] = set()
    for rel, header in headers.items():
        if header.is_multi_segment or header.is_layout:
            continue
        folder = posixpath.dirname(rel)
        stem = posixpath.basename(rel)[: -len(".hea")]
        if rel in owner:
            record, kind = owner[rel], WAVEFORM
        else:
            record, kind = _record_for_loose_segment(stem)
            record = masters.get((folder, record), record)
        found.records.add(record)
        dat_paths, dat_bytes, problem = _check_data_files(group, record, stem, rel, header)
        referenced_dat.update(dat_paths)
        if problem is not None:
            found.problems.append(problem)
            continue
        found.tasks.append(
            SegmentTask(group.group, record, stem, kind, rel, header, dat_paths, dat_bytes)
        )

    for rel in sorted(group.files):
        if rel.endswith(".dat"):
            # A broken header already has its row; its data file is no extra news.
            if rel not in referenced_dat and rel[: -len(".dat")] not in unparsable:
                stem = posixpath.basename(rel)[: -len(".dat")]
                record, _ = _record_for_loose_segment(stem)
                found.problems.append(
                    Problem(
                        group.group,
                        record,
                        stem,
                        group.url(rel),
                        "OrphanDataFile",
                        "no header in the folder names this data file",
                    )
                )
        elif not rel.endswith(".hea"):
            found.ignored_files.append(rel)
    return found

"""The damage suite: hundreds of seeded damaged trees, and the invariants every run keeps.

Each tree is a real group (PhysioNet records or a group of the bundled sample)
with one to four kinds of damage (``tests/support/damage.py``). The profile's
nodes run on it in this process, as the pipeline calls them; then, for every
tree:

1. no exception leaves a node;
2. every segment header found is in exactly one of ``segment_features`` and the
   ``error``-severity rows of ``extraction_errors``;
3. every value both waveshard and ``wfdb.rdrecord`` produce is equal (1e-9);
4. nothing wfdb reads is lost: a segment wfdb reads is extracted (the
   documented exceptions are links out of the group folder);
5. every segment waveshard extracts and wfdb refuses has a ``warning`` row;
6. every message is bounded (at most 300 printable characters);
7. nothing outside the group folder is opened (every ``open`` is audited).

A few trees with many kinds at once also go through ``kedro run`` (exit 0, the
same invariants on the written outputs). The figures are printed and recorded
in the README next to the policy table.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from wfdb.io.header import parse_header_content, rx_record, rx_signal

from tests.support import cli
from tests.support.damage import KINDS, OpenAudit, damaged_tree, opened_outside
from tests.support.exactness import RTOL, reference_stats
from tests.support.paths import PHYSIONET, SAMPLE_RAW
from waveshard.contract import ERROR, MESSAGE_LIMIT, STAT_COLUMNS, WARNING
from waveshard.pipelines.profile.nodes import (
    discover,
    extract,
    plan_shards,
    report_group,
    summarize_records,
)
from waveshard.wfdb_io.discovery import MAX_HEADER_BYTES
from waveshard.wfdb_io.headers import MAX_LINE
from waveshard.wfdb_io.storage import GroupFolder

#: Trees in the in-process suite (seeds 0 .. TREES-1).
TREES = 200
#: Error types that refuse what wfdb reads, on purpose (README, policy table).
DELIBERATE = {"SymlinkNotFollowed", "UnreadableHeader", "HeaderTooLarge"}


# ------------------------------------------------------------------ the oracle
@dataclass
class Reference:
    """What ``wfdb.rdrecord`` gives for one header: channels, or why it refused."""

    channels: list[np.ndarray] | None
    fs: float | None = None
    refused: str = ""
    _stats: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def reads_samples(self) -> bool:
        return bool(self.channels) and any(len(c) for c in self.channels)

    def valid(self, channel: int) -> np.ndarray:
        values = self.channels[channel]
        return values[~np.isnan(values)]

    def stats(self, channel: int) -> dict[str, float]:
        """numpy's statistics of a channel's valid samples (kept: many trees share it)."""
        if channel not in self._stats:
            self._stats[channel] = numpy_stats(self.valid(channel))
        return self._stats[channel]


def _content_lines(path: Path) -> list[str]:
    return parse_header_content(path.read_bytes().decode("ascii", errors="ignore"))[0]


def wfdb_never_finishes(header: Path) -> bool:
    """Whether wfdb's line patterns would backtrack for ever on a line of ``header``."""
    return any(len(line) > MAX_LINE for line in _content_lines(header))


#: wfdb's answers by what they depend on (see :func:`_reference_key`).
_REFERENCES: dict[tuple, Reference] = {}


def _reference_key(header: Path) -> tuple:
    """The header's bytes and the identity of each file it names.

    Undamaged files are hard links to the project's copies and damage always
    writes new files, so (inode, size, mtime) names a file's content here.
    """
    data = header.read_bytes()
    names = []
    for line in _content_lines(header)[1:]:
        match = rx_signal.match(line)
        if match and match.group("file_name") not in names:
            names.append(match.group("file_name"))
    identity = []
    for name in names:
        try:
            st = (header.parent / name).stat()
            identity.append((name, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode))
        except OSError as exc:
            identity.append((name, type(exc).__name__))
    return data, tuple(identity)


def wfdb_reference(header: Path) -> Reference:
    """``wfdb.rdrecord`` of the record whose header is ``header`` (every sample)."""
    if header.is_symlink() or not header.is_file():
        return _wfdb_reference(header)
    if wfdb_never_finishes(header):
        return Reference(None, refused="a header line too long for wfdb's patterns")
    key = _reference_key(header)
    if key not in _REFERENCES:
        _REFERENCES[key] = _wfdb_reference(header)
    return _REFERENCES[key]


def _wfdb_reference(header: Path) -> Reference:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record = wfdb.rdrecord(str(header)[: -len(".hea")], smooth_frames=False)
    except Exception as exc:  # wfdb refuses: that is an answer too
        return Reference(None, refused=f"{type(exc).__name__}: {str(exc)[:80]}")
    if isinstance(record, wfdb.MultiRecord) or not record.n_sig:
        return Reference([], record.fs)
    channels = [np.asarray(c, dtype=np.float64) for c in record.e_p_signal]
    return Reference(channels, float(record.fs))


def header_kind(path: Path) -> str:
    """``master``, ``layout`` or ``segment``, by wfdb's own line patterns.

    A header nothing can be made of counts as a segment: it must get an error row.
    """
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_HEADER_BYTES:
        return "segment"
    if wfdb_never_finishes(path):
        return "segment"
    lines = _content_lines(path)
    match = rx_record.match(lines[0]) if lines else None
    if match is None:
        return "segment"
    if match.group("n_seg"):
        return "master"
    names = [m.group("file_name") for line in lines[1:] if (m := rx_signal.match(line))]
    n_sig = int(match.group("n_sig") or 0)
    sig_len = match.group("sig_len")
    if n_sig and names and all(n == "~" for n in names) and sig_len in ("", "0"):
        return "layout"
    return "segment"


def segment_headers(group_dir: Path) -> dict[str, Path]:
    """Every header of the group that is neither a master nor a layout, by stem."""
    found = {}
    for folder, dirs, files in os.walk(group_dir):  # links to folders are not followed
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if name.endswith(".hea") and header_kind(path) == "segment":
                assert path.stem not in found, f"two headers named {path.stem}"
                found[path.stem] = path
    return found


# ------------------------------------------------------------------ a run
@dataclass
class Outcome:
    """A group's tables and what was opened while they were made."""

    segments: pd.DataFrame
    records: pd.DataFrame
    errors: pd.DataFrame
    headers: dict[str, str]  # segment → header path relative to the group folder
    opened: list[str] = field(default_factory=list)


def run_nodes(root: Path, group: str, n_workers: int = 1) -> Outcome:
    """The profile nodes of one group, as the pipeline calls them, every open audited."""
    with OpenAudit.recording() as opened:
        folder = GroupFolder.scan(group, str(root / group))
        found, index = discover(folder)
        plan = plan_shards(found, n_workers, 2)
        rows, counts, segment_problems, figures = extract(folder, found, plan, 3600)
        segments, records, record_problems = summarize_records(
            found, rows, counts, index, {"ABP": ["ART"]}
        )
        errors, _summary = report_group(folder, found, segment_problems, record_problems, figures)
    headers = {t.segment: t.header_path for t in found.tasks}
    return Outcome(segments, records, errors, headers, list(opened))


# ------------------------------------------------------------------ invariants
@dataclass
class Tally:
    """What the invariants saw, over all trees."""

    trees: int = 0
    kinds: collections.Counter = field(default_factory=collections.Counter)
    headers: int = 0
    extracted: int = 0
    refused: int = 0
    values_compared: int = 0
    wfdb_refused_we_read: int = 0
    problem_types: collections.Counter = field(default_factory=collections.Counter)
    opens: int = 0


def check_accounting(tree, outcome: Outcome, tally: Tally) -> None:
    """Invariant 2: every segment header in exactly one of features and error rows."""
    found = segment_headers(tree.group_dir)
    extracted = set(outcome.segments["segment"])
    errors = outcome.errors[outcome.errors["severity"] == ERROR]
    # A MissingSegment row is about a header that does not exist (a master lists it),
    # even when a header of that name exists in another record's folder.
    absent = errors["error_type"] == "MissingSegment"
    assert not any(Path(p).exists() for p in errors.loc[absent, "path"]), tree.applied
    failed = set(errors.loc[~absent, "segment"])
    for stem in found:
        assert (stem in extracted) != (stem in failed), (
            f"seed {tree.seed}: {stem} is in {'both' if stem in extracted else 'neither'} "
            f"of segment_features and the error rows ({tree.applied})"
        )
    # Every segment row comes from a header found (and every channel of it).
    assert extracted <= set(found), f"seed {tree.seed}: {extracted - set(found)}"
    tally.headers += len(found)
    tally.extracted += len(extracted & set(found))
    tally.refused += len(set(found) - extracted)


def _rows(table: pd.DataFrame) -> list[dict]:
    """A table's rows as plain dicts (``itertuples`` on extension dtypes is slow)."""
    return table.astype(object).to_dict("records")


def check_against_wfdb(tree, outcome: Outcome, tally: Tally) -> None:
    """Invariants 3-5: equal values, nothing wfdb reads lost, deviations reported."""
    found = segment_headers(tree.group_dir)
    warned = set(outcome.errors.loc[outcome.errors["severity"] == WARNING, "segment"])
    errors = outcome.errors[outcome.errors["severity"] == ERROR]
    error_types = dict(zip(errors["segment"], errors["error_type"], strict=False))
    by_segment: dict[str, list[dict]] = collections.defaultdict(list)
    for row in _rows(outcome.segments):
        by_segment[row["segment"]].append(row)
    samples_by_record: dict[tuple, list[np.ndarray]] = collections.defaultdict(list)
    complete_records: dict[tuple, bool] = collections.defaultdict(lambda: True)
    for stem, header in found.items():
        reference = wfdb_reference(header)
        rows = by_segment.get(stem)
        if rows is None:
            if reference.reads_samples:
                refusal = error_types.get(stem)
                # wfdb 4.3 "reads" a truncated packed-format file (212, 310, 311) by
                # broadcasting the bytes it has over the samples it lacks.
                packed = refusal == "TruncatedDataFile" and packed_format(header)
                assert refusal in DELIBERATE or packed, (
                    f"seed {tree.seed}: wfdb reads {stem}, waveshard refused it "
                    f"({refusal}; {tree.applied})"
                )
            continue
        if reference.channels is None:
            if sum(row["n_samples"] for row in rows) > 0:
                tally.wfdb_refused_we_read += 1
                assert stem in warned, (
                    f"seed {tree.seed}: {stem} extracted although wfdb refuses it "
                    f"({reference.refused}), and no warning says so ({tree.applied})"
                )
            for row in rows:
                complete_records[_record_key(row)] = False
            continue
        assert len(rows) == len(reference.channels), f"seed {tree.seed}: {stem} channels"
        for row in rows:
            channel = row["channel"]
            label = f"seed {tree.seed} {stem}"
            assert row["n_samples"] == len(reference.channels[channel]), f"{label} n_samples"
            compare(row, reference.stats(channel), label)
            tally.values_compared += len(STAT_COLUMNS) + 1
            fs = reference.fs * header_samples_per_frame(header, channel)
            assert close(row["fs"], fs, 0.0) or not math.isfinite(fs), f"{label} fs"
            samples_by_record[_record_key(row)].append(reference.valid(channel))
    for rec in _rows(outcome.records):
        key = _record_key(rec)
        if complete_records[key] and key in samples_by_record:
            compare(rec, numpy_stats(np.concatenate(samples_by_record[key])), f"{key}")
            tally.values_compared += len(STAT_COLUMNS) + 1


def _record_key(row: dict) -> tuple:
    return (row["record"], row["kind"], row["signal"], row["units"])


def packed_format(header: Path) -> bool:
    """Whether a signal of ``header`` is stored in a packed format (212, 310, 311)."""
    lines = _content_lines(header)
    formats = {m.group("fmt") for line in lines[1:] if (m := rx_signal.match(line))}
    return bool(formats & {"212", "310", "311"})


def header_samples_per_frame(header: Path, channel: int) -> int:
    lines = _content_lines(header)
    match = rx_signal.match(lines[1 + channel])
    return int(match.group("samps_per_frame") or 1) if match else 1


def numpy_stats(samples: np.ndarray) -> dict[str, float]:
    """What numpy computes on the valid samples, with their count and scale."""
    if not len(samples):
        return {"n": 0}
    with np.errstate(all="ignore"):
        return {
            "n": len(samples),
            "scale": float(np.max(np.abs(samples))) or 1.0,
            **reference_stats(samples),
        }


def close(value: float, expected: float, absolute: float) -> bool:
    """``value`` equals ``expected`` to 1e-9 relative (or ``absolute``), NaN equal to NaN."""
    if not math.isfinite(expected):
        return value == expected or (math.isnan(value) and math.isnan(expected))
    return abs(value - expected) <= max(RTOL * abs(expected), absolute)


def compare(row: dict, reference: dict[str, float], label: str) -> None:
    """Assert every statistic of ``row`` equals numpy's (``reference``)."""
    assert row["n_valid"] == reference["n"], f"{label} n_valid"
    if not reference["n"]:
        assert all(math.isnan(row[c]) for c in STAT_COLUMNS), label
        return
    for column in STAT_COLUMNS:
        expected = float(reference[column])
        assert close(float(row[column]), expected, 1e-12 * reference["scale"]), (
            f"{label} {column}: {row[column]!r} != {expected!r}"
        )


def check_messages(outcome: Outcome, tally: Tally) -> None:
    """Invariant 6: bounded, printable messages."""
    for row in _rows(outcome.errors):
        message, path = row["message"], row["path"]
        assert len(message) <= MESSAGE_LIMIT and message.isprintable(), message[:80]
        assert len(path) <= 2 * MESSAGE_LIMIT and path.isprintable()
        assert row["severity"] in (ERROR, WARNING)
        tally.problem_types[(row["error_type"], row["severity"])] += 1


def check_opens(tree, outcome: Outcome, tally: Tally) -> None:
    """Invariant 7: nothing outside the group folder was opened or listed."""
    workdir = tree.root.parent
    assert not opened_outside(outcome.opened, tree.group_dir, workdir), (
        f"seed {tree.seed}: opened outside the group folder: "
        f"{opened_outside(outcome.opened, tree.group_dir, workdir)[:3]} ({tree.applied})"
    )
    tally.opens += len(outcome.opened)


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


# ------------------------------------------------------------------ the suite
def test_damage_suite(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sources = {folder: _digest(folder) for folder in (PHYSIONET, SAMPLE_RAW)}
    tally = Tally()
    started, cpu = time.perf_counter(), time.process_time()
    caplog.set_level(logging.ERROR)  # the suite's thousands of warnings are expected
    for seed in range(TREES):
        tree = damaged_tree(seed, tmp_path / str(seed))
        outcome = run_nodes(tree.root, tree.group)
        tally.trees += 1
        tally.kinds.update(kind for kind, _ in tree.applied)
        check_accounting(tree, outcome, tally)
        check_against_wfdb(tree, outcome, tally)
        check_messages(outcome, tally)
        check_opens(tree, outcome, tally)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    # The harness did what it says: every kind, many times, and the damage showed.
    assert set(tally.kinds) == set(KINDS) and min(tally.kinds.values()) >= 5, tally.kinds
    seen = {t for t, _ in tally.problem_types}
    for expected in (
        "UnparsableHeader",
        "MissingDataFile",
        "TruncatedDataFile",
        "EmptyDataFile",
        "DataLengthMismatch",
        "SignalLengthFromFile",
        "InvalidSamplingFrequency",
        "HeaderNotAscii",
        "MissingSegment",
        "SymlinkNotFollowed",
        "UnsupportedFormat",
        "OrphanDataFile",
    ):
        assert expected in seen, f"no {expected} row in {TREES} damaged trees"
    assert tally.wfdb_refused_we_read > 0 and tally.values_compared > 10_000
    # The project's own copies of the data were only ever linked, never written.
    assert {folder: _digest(folder) for folder in sources} == sources
    figures = {
        "trees": tally.trees,
        "kinds": len(tally.kinds),
        "damage_applied": sum(tally.kinds.values()),
        "segment_headers": tally.headers,
        "extracted": tally.extracted,
        "refused": tally.refused,
        "values_compared_with_wfdb": tally.values_compared,
        "extracted_where_wfdb_refuses": tally.wfdb_refused_we_read,
        "problem_rows": sum(tally.problem_types.values()),
        "opens_audited": tally.opens,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # what an otherwise idle machine takes
    }
    print("damage suite:", json.dumps(figures))


def test_damage_suite_in_worker_processes(tmp_path: Path) -> None:
    """The same boundary in joblib workers: a few trees with two workers."""
    tally = Tally()
    for seed in range(TREES, TREES + 3):
        tree = damaged_tree(seed, tmp_path / str(seed), kinds=3)
        outcome = run_nodes(tree.root, tree.group, n_workers=2)
        check_accounting(tree, outcome, tally)
        check_against_wfdb(tree, outcome, tally)
        check_messages(outcome, tally)
    assert tally.headers > 0


def test_kedro_run_on_heavily_damaged_trees_exits_0(tmp_path: Path) -> None:
    """``kedro run`` over three groups, each with eight kinds of damage at once."""
    raw = tmp_path / "raw"
    trees = []
    for seed in (1001, 1002, 1003):
        tree = damaged_tree(seed, tmp_path / f"t{seed}", kinds=8)
        if tree.group in {t.group for t in trees} or (raw / tree.group).exists():
            continue
        (raw / tree.group).parent.mkdir(parents=True, exist_ok=True)
        tree.group_dir.rename(raw / tree.group)
        tree.root = raw
        trees.append(tree)
    assert len(trees) >= 2, [t.group for t in trees]
    out = tmp_path / "out"
    groups = " ".join(t.group for t in trees)
    result = cli.kedro(
        "run",
        "--params",
        f"raw_root={raw},output_root={out},groups={groups}",
        timeout=600,
    )
    assert result.code == 0, result.output[-3000:]
    segments = pd.read_parquet(out / "04_feature/segment_features.parquet")
    errors = pd.read_csv(out / "08_reporting/extraction_errors.csv", dtype=str)
    tally = Tally()
    for tree in trees:
        outcome = Outcome(
            segments[segments["group"] == tree.group],
            pd.read_parquet(out / f"02_intermediate/groups/{tree.group}/record_features.parquet"),
            errors[errors["group"] == tree.group].fillna(""),
            {},
        )
        check_accounting(tree, outcome, tally)
        check_against_wfdb(tree, outcome, tally)
        check_messages(outcome, tally)
    assert tally.headers > 0 and tally.values_compared > 0

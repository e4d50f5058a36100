"""Reference checks against wfdb: every published value equals what wfdb reads.

Statistics equal numpy on wfdb's physical samples; counts, durations, rates, header
fields and checksums equal what wfdb's header and digital samples give.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from waveshard.contract import PERCENTILE_COLUMNS, PERCENTILES, STAT_COLUMNS
from waveshard.pipelines.profile.nodes import (
    discover,
    extract,
    plan_shards,
    report_group,
    summarize_records,
)
from waveshard.wfdb_io.storage import GroupFolder

RTOL = 1e-9


def run_group(root: Path, group: str, n_workers: int, signal_names: dict | None = None):
    """The profile nodes of one group, called as the pipeline calls them."""
    folder = GroupFolder.scan(group, str(root / group))
    found, index = discover(folder)
    plan = plan_shards(found, n_workers, 4)
    rows, counts, segment_problems, figures = extract(folder, found, plan, 60)
    segments, records, record_problems = summarize_records(
        found, rows, counts, index, signal_names or {}
    )
    errors, summary = report_group(folder, found, segment_problems, record_problems, figures)
    return segments, records, errors, summary


def reference_stats(samples: np.ndarray) -> dict[str, float]:
    return {
        "mean": np.mean(samples),
        "std": np.std(samples),
        "min": np.min(samples),
        "max": np.max(samples),
        **dict(zip(PERCENTILE_COLUMNS, np.percentile(samples, PERCENTILES), strict=True)),
    }


@dataclass(frozen=True)
class Reference:
    """What wfdb reads of one channel of one segment."""

    samples: np.ndarray  # valid physical samples (wfdb's NaN for invalid ones dropped)
    n_samples: int
    fs: float
    fmt: int
    adc_gain: float
    baseline: int
    units: str
    sig_name: str
    checksum_ok: bool | None  # the header's checksum against wfdb's digital samples


@lru_cache(maxsize=64)
def _read(path: str):
    header = wfdb.rdheader(path)
    if header.sig_len == 0:  # wfdb cannot read a zero-length segment
        return header, None, None
    # smooth_frames=False keeps every sample of a channel stored several times a frame.
    physical = wfdb.rdrecord(path, smooth_frames=False)
    digital = wfdb.rdrecord(path, physical=False, smooth_frames=False)
    return header, physical.e_p_signal, digital.e_d_signal


def reference(root: Path, group: str, header_dir: str, segment: str, channel: int) -> Reference:
    """wfdb's reading of one channel: samples and the header fields the tables publish."""
    header, physical, digital = _read(str(root / group / header_dir / segment))
    spf = (header.samps_per_frame or [1] * header.n_sig)[channel]
    if physical is None:
        values, checksum_ok = np.zeros(0), None
    else:
        values = physical[channel]
        checksum_ok = None
        if header.checksum is not None:
            total = int(np.sum(digital[channel].astype(np.int64))) % 65536
            checksum_ok = total == header.checksum[channel] % 65536
    return Reference(
        samples=values[~np.isnan(values)],
        n_samples=len(values),
        fs=header.fs * spf,
        fmt=int(header.fmt[channel]),
        adc_gain=float(header.adc_gain[channel]),
        baseline=int(header.baseline[channel]),
        units=header.units[channel],
        sig_name=header.sig_name[channel],
        checksum_ok=checksum_ok,
    )


def channel_samples(root: Path, group: str, header_dir: str, segment: str, channel: int):
    ref = reference(root, group, header_dir, segment, channel)
    return ref.samples, ref.n_samples


def assert_matches(row: pd.Series, samples: np.ndarray) -> None:
    assert row["n_valid"] == len(samples)
    if len(samples) == 0:
        assert all(np.isnan(row[c]) for c in STAT_COLUMNS)
        return
    ref = reference_stats(samples)
    scale = float(np.max(np.abs(samples))) or 1.0
    for column in STAT_COLUMNS:
        assert row[column] == pytest.approx(ref[column], rel=RTOL, abs=1e-12 * scale), (
            f"{row['segment']} channel {row['channel']} {column}"
        )


def _missing_fraction(n_valid: int, n_samples: int) -> float:
    return (n_samples - n_valid) / n_samples if n_samples else np.nan


def check_segments_against_wfdb(
    root: Path, group: str, segments: pd.DataFrame, index_dirs: dict[str, str]
) -> int:
    """Compare every column of every segment row with wfdb; returns the channels checked."""
    for row in segments.itertuples(index=False):
        ref = reference(root, group, index_dirs[row.segment], row.segment, row.channel)
        where = f"{row.segment} channel {row.channel}"
        assert row.n_samples == ref.n_samples, where
        assert row.fs == ref.fs and row.fmt == ref.fmt, where
        assert (row.adc_gain, row.baseline) == (ref.adc_gain, ref.baseline), where
        assert (row.units, row.signal_raw) == (ref.units, ref.sig_name), where
        assert row.duration_s == pytest.approx(ref.n_samples / ref.fs, rel=RTOL), where
        expected = _missing_fraction(len(ref.samples), ref.n_samples)
        assert row.missing_fraction == pytest.approx(expected, rel=RTOL, nan_ok=True), where
        if ref.checksum_ok is None:
            assert pd.isna(row.checksum_ok), where
        else:
            assert row.checksum_ok == ref.checksum_ok, where
        assert_matches(pd.Series(row._asdict()), ref.samples)
    return len(segments)


def check_records_against_wfdb(
    root: Path,
    group: str,
    segments: pd.DataFrame,
    records: pd.DataFrame,
    index_dirs: dict[str, str],
) -> int:
    """Concatenate wfdb's samples of each record × signal and compare the merged row."""
    for rec in records.itertuples(index=False):
        parts = segments[
            (segments["record"] == rec.record)
            & (segments["kind"] == rec.kind)
            & (segments["signal"] == rec.signal)
            & (segments["units"] == rec.units)
        ]
        refs = [
            reference(root, group, index_dirs[p.segment], p.segment, p.channel)
            for p in parts.itertuples(index=False)
        ]
        samples = np.concatenate([r.samples for r in refs])
        n_samples = sum(r.n_samples for r in refs)
        where = f"{rec.record} {rec.signal}"
        assert rec.n_samples == n_samples, where
        assert rec.n_segments == parts["segment"].nunique(), where
        assert rec.duration_s == pytest.approx(sum(r.n_samples / r.fs for r in refs), rel=RTOL)
        expected = _missing_fraction(len(samples), n_samples)
        assert rec.missing_fraction == pytest.approx(expected, rel=RTOL, nan_ok=True), where
        rates = {r.fs for r in refs}
        assert rec.fs == rates.pop() if len(rates) == 1 else np.isnan(rec.fs), where
        assert_matches(pd.Series({**rec._asdict(), "segment": rec.record, "channel": -1}), samples)
    return len(records)

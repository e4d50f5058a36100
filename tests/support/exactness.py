"""Reference checks against wfdb: every statistic equals numpy on ``p_signal``."""

from __future__ import annotations

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
    found, _index = discover(folder)
    plan = plan_shards(found, n_workers, 4)
    rows, counts, segment_problems, figures = extract(folder, found, plan, 60)
    errors, summary = report_group(folder, found, segment_problems, figures)
    segments, records = summarize_records(rows, counts, signal_names or {})
    return segments, records, errors, summary


def reference_stats(samples: np.ndarray) -> dict[str, float]:
    return {
        "mean": np.mean(samples),
        "std": np.std(samples),
        "min": np.min(samples),
        "max": np.max(samples),
        **dict(zip(PERCENTILE_COLUMNS, np.percentile(samples, PERCENTILES), strict=True)),
    }


def channel_samples(root: Path, group: str, header_dir: str, segment: str, channel: int):
    path = str(root / group / header_dir / segment)
    if wfdb.rdheader(path).sig_len == 0:  # wfdb cannot read a zero-length segment
        return np.zeros(0), 0
    record = wfdb.rdrecord(path)
    values = record.p_signal[:, channel]
    return values[~np.isnan(values)], len(values)


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


def check_segments_against_wfdb(
    root: Path, group: str, segments: pd.DataFrame, index_dirs: dict[str, str]
) -> int:
    """Compare every segment row with wfdb; returns the number of channels checked."""
    for row in segments.itertuples(index=False):
        samples, n_samples = channel_samples(
            root, group, index_dirs[row.segment], row.segment, row.channel
        )
        assert row.n_samples == n_samples
        assert_matches(pd.Series(row._asdict()), samples)
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
        samples = np.concatenate(
            [
                channel_samples(root, group, index_dirs[p.segment], p.segment, p.channel)[0]
                for p in parts.itertuples(index=False)
            ]
        )
        assert rec.n_samples == parts["n_samples"].sum()
        assert_matches(pd.Series({**rec._asdict(), "segment": rec.record, "channel": -1}), samples)
    return len(records)

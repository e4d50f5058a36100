"""Node functions, called directly."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from waveshard.pipelines.extraction.nodes import (
    chunk_segments,
    extract_segments,
    flatten_group,
    summarize_records,
)
from waveshard.schema import SEGMENT_INDEX_COLUMNS
from waveshard.wfdb_io.storage import GroupFolder

SAMPLE = PROJECT_ROOT / "data" / "01_raw"


def test_flatten_missing_group_warns_and_returns_empty_tables(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        index, problems = flatten_group(GroupFolder.scan("36", str(tmp_path / "36")))
    assert list(index.columns) == list(SEGMENT_INDEX_COLUMNS)
    assert index.empty and problems.empty
    assert "Group 36: folder" in caplog.text and "does not exist" in caplog.text
    plan = chunk_segments(index, 2, 4)
    assert plan == {"workers": 2, "shards": []}


def test_flatten_empty_group_warns(tmp_path: Path, caplog) -> None:
    (tmp_path / "37").mkdir()
    with caplog.at_level(logging.WARNING):
        flatten_group(GroupFolder.scan("37", str(tmp_path / "37")))
    assert "is empty" in caplog.text


def test_chunk_balances_bytes_and_keeps_small_groups_in_process() -> None:
    index, _ = flatten_group(GroupFolder.scan("31", str(SAMPLE / "31")))
    plan = chunk_segments(index, 2, 3)
    assert plan["workers"] == 2
    assert sorted(i for shard in plan["shards"] for i in shard) == list(range(len(index)))
    assert len(plan["shards"]) == min(6, len(index))
    assert chunk_segments(index, 2, 3, parallel_min_mb=1000)["workers"] == 1


def test_one_bad_segment_does_not_stop_the_others(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE / "32", tmp_path / "32")
    folder = GroupFolder.scan("32", str(tmp_path / "32"))
    index, problems = flatten_group(folder)
    # The file disappears between discovery and extraction.
    victim = index.iloc[0]
    (tmp_path / "32" / victim["dat_paths"][0]).unlink()
    plan = chunk_segments(index, 2, 2)
    rows, counts, errors, summary = extract_segments(folder, index, plan, problems, 60)
    assert summary["segments_failed"] == 1
    assert summary["segments_ok"] == len(index) - 1
    assert errors["segment"].tolist() == [victim["segment"]]
    assert errors["error_type"].tolist() == ["FileNotFoundError"]
    assert victim["segment"] not in set(rows["segment"])
    assert len(rows) == len(counts)
    segments, records = summarize_records(rows, counts, {"ABP": ["ART"]})
    assert "ART" not in set(segments["signal"])
    assert set(records["record"]) == set(rows["record"])

"""Node functions, called directly."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from tests.support.paths import PROJECT_ROOT
from waveshard.contract import SEGMENT_INDEX
from waveshard.pipelines.profile.nodes import (
    discover,
    extract,
    plan_shards,
    report_group,
    summarize_records,
)
from waveshard.wfdb_io.storage import GroupFolder

SAMPLE = PROJECT_ROOT / "data" / "01_raw"


def test_discover_missing_group_warns_and_returns_empty_tables(tmp_path: Path, caplog) -> None:
    folder = GroupFolder.scan("36", str(tmp_path / "36"))
    with caplog.at_level(logging.WARNING):
        found, index = discover(folder)
    assert list(index.columns) == SEGMENT_INDEX.columns
    assert index.empty and not found.tasks and not found.problems
    assert "Group 36: folder" in caplog.text and "does not exist" in caplog.text
    plan = plan_shards(found, 2, 4)
    assert plan == {"workers": 2, "shards": []}
    rows, counts, problems, figures = extract(folder, found, plan, 60)
    errors, summary = report_group(folder, found, problems, figures)
    assert rows.empty and counts == [] and errors.empty
    assert summary["folder_exists"] is False and summary["segments"] == 0


def test_discover_empty_group_warns(tmp_path: Path, caplog) -> None:
    (tmp_path / "37").mkdir()
    with caplog.at_level(logging.WARNING):
        discover(GroupFolder.scan("37", str(tmp_path / "37")))
    assert "is empty" in caplog.text


def test_plan_shards_balances_bytes_and_keeps_small_groups_in_process() -> None:
    found, index = discover(GroupFolder.scan("31", str(SAMPLE / "31")))
    plan = plan_shards(found, 2, 3)
    assert plan["workers"] == 2
    assert sorted(i for shard in plan["shards"] for i in shard) == list(range(len(index)))
    assert len(plan["shards"]) == min(6, len(index))
    assert plan_shards(found, 2, 3, parallel_min_mb=1000)["workers"] == 1


def test_one_bad_segment_does_not_stop_the_others(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE / "32", tmp_path / "32")
    folder = GroupFolder.scan("32", str(tmp_path / "32"))
    found, index = discover(folder)
    # The file disappears between discovery and extraction.
    victim = index.iloc[0]
    (tmp_path / "32" / victim["dat_paths"][0]).unlink()
    plan = plan_shards(found, 2, 2)
    rows, counts, problems, figures = extract(folder, found, plan, 60)
    errors, summary = report_group(folder, found, problems, figures)
    assert summary["segments_failed"] == 1
    assert summary["segments_ok"] == len(index) - 1
    assert errors["segment"].tolist() == [victim["segment"]]
    assert errors["error_type"].tolist() == ["FileNotFoundError"]
    assert victim["segment"] not in set(rows["segment"])
    assert len(rows) == len(counts)
    segments, records = summarize_records(rows, counts, index, {"ABP": ["ART"]})
    assert "ART" not in set(segments["signal"])
    assert set(records["record"]) == set(rows["record"])

"""Node functions, called directly."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_ROOT
from waveshard.contract import SEGMENT_INDEX
from waveshard.pipelines.profile import nodes
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
    segments, records, record_problems = summarize_records(found, rows, counts, index, {})
    errors, summary = report_group(folder, found, problems, record_problems, figures)
    assert rows.empty and counts == [] and errors.empty
    assert segments.empty and records.empty
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
    segments, records, record_problems = summarize_records(
        found, rows, counts, index, {"ABP": ["ART"]}
    )
    errors, summary = report_group(folder, found, problems, record_problems, figures)
    assert summary["segments_failed"] == 1
    assert summary["segments_ok"] == len(index) - 1
    assert errors["segment"].tolist() == [victim["segment"]]
    assert errors["error_type"].tolist() == ["FileNotFoundError"]
    assert victim["segment"] not in set(rows["segment"])
    assert len(rows) == len(counts)
    assert record_problems.empty
    assert "ART" not in set(segments["signal"])
    assert set(records["record"]) == set(rows["record"])


def _run(folder: GroupFolder, n_workers: int, signal_names: dict | None = None):
    found, index = discover(folder)
    plan = plan_shards(found, n_workers, 2)
    rows, counts, problems, figures = extract(folder, found, plan, 60)
    segments, records, record_problems = summarize_records(
        found, rows, counts, index, signal_names or {}
    )
    errors, summary = report_group(folder, found, problems, record_problems, figures)
    return index, segments, records, errors, summary


@pytest.mark.parametrize("n_workers", [1, 2], ids=["in-process", "workers"])
def test_a_zero_sampling_frequency_is_a_warning_and_stops_nothing(
    tmp_path: Path, n_workers: int
) -> None:
    """fs = 0 once raised ZeroDivisionError in the in-process path and lost the run."""
    shutil.copytree(SAMPLE / "32", tmp_path / "32")
    header = tmp_path / "32" / "3200001" / "3200001_0002.hea"
    lines = header.read_text().splitlines()
    first = lines[0].split()
    lines[0] = " ".join([*first[:2], "0", *first[3:]])
    header.write_text("\n".join(lines) + "\n")
    folder = GroupFolder.scan("32", str(tmp_path / "32"))
    index, segments, records, errors, summary = _run(folder, n_workers)
    assert summary["segments_failed"] == 0 and summary["segments_ok"] == len(index)
    zero = segments[segments["segment"] == "3200001_0002"]
    assert len(zero) > 0 and (zero["fs"] == 0).all() and zero["duration_s"].isna().all()
    assert zero["n_valid"].gt(0).all()  # the samples are there, as wfdb reads them
    assert errors[["segment", "error_type", "severity"]].values.tolist() == [
        ["3200001_0002", "InvalidSamplingFrequency", "warning"]
    ]
    assert set(records["record"]) == set(index["record"])


def test_a_record_whose_merge_fails_costs_only_its_own_segments(tmp_path, monkeypatch) -> None:
    folder = GroupFolder.scan("31", str(SAMPLE / "31"))
    real_merge = nodes.merge_records

    def merge(segments, counts):
        if "3100002" in set(segments["record"]):
            raise FloatingPointError("a merge that cannot be done")
        return real_merge(segments, counts)

    monkeypatch.setattr(nodes, "merge_records", merge)
    index, segments, records, errors, summary = _run(folder, 1)
    lost = set(index.loc[index["record"] == "3100002", "segment"])
    assert lost and set(errors["segment"]) == lost
    assert set(errors["error_type"]) == {"FloatingPointError"}
    assert errors["message"].str.startswith("not extracted: merging the record").all()
    assert not lost & set(segments["segment"])  # in exactly one of the two tables
    assert set(records["record"]) == set(index["record"]) - {"3100002"}
    assert summary["segments_failed"] == len(lost)
    assert summary["segments_ok"] == len(index) - len(lost)

"""The dry run as a plan for an archive that is not uploaded yet: from a listing file."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.runner import kedro_run, runner_args
from waveshard.datatools.listing import write_listing


def test_a_listing_is_planned_with_partitions_wall_clock_costs_and_assumptions(
    tmp_path: Path,
) -> None:
    listing = tmp_path / "archive.csv"
    summary = write_listing(listing, scale=0.001, seed=1)  # 68 records, 6.7 GB
    settings = {
        "dry_run": "true",
        "listing": listing,
        "instance_type": "ml.c5.4xlarge",
        "max_concurrent_jobs": 10,
        "max_partition_gb": 0.4,
    }
    result = kedro_run(runner_args(**settings), env={})
    assert result.code == 0, result.output[-3000:]
    out = result.output
    rows = re.findall(r"│ (group_3\d(?:-part-\d{4})?) +│ run ", out)
    assert {r[:8] for r in rows} == {f"group_3{i}" for i in range(10)}
    assert len([r for r in rows if "-part-" in r]) >= 16  # ~0.67 GB groups, 0.4 GB parts
    assert re.search(r"Wall-clock: \d+m\d\ds with max_concurrent_jobs=10 \(\d+ job\(s\)", out)
    assert re.search(
        r"cost \$\d+\.\d\d instances \+ \$\d+\.\d\d volumes \+ \$\d+\.\d\d S3 GETs", out
    )
    assert "S3 at 1,100 MB/s per ml.c5.4xlarge" in out
    assert (
        "compute: clinical 20, profile 200 MB/s per vCPU (compute_mb_s_per_vcpu) × 16 vCPU" in out
    )
    assert "quota of 0 for 'ml.c5.4xlarge for processing job usage'" in out
    assert f"Planned from the listing {listing} ({summary.files:,} objects" in out


def test_a_listing_only_plans(tmp_path: Path) -> None:
    listing = tmp_path / "archive.csv"
    listing.write_text("key,size\n")
    result = kedro_run(runner_args(listing=listing), env={})
    assert result.code != 0 and "Traceback" not in result.output
    assert "it only makes a plan, add dry_run=true" in result.output

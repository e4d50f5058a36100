"""Where a job's time goes, the wall clock, the costs, and planning from a listing."""

from __future__ import annotations

from pathlib import Path

import pytest

from waveshard.runners import pricing
from waveshard.runners.estimates import RunEstimate, wall_clock
from waveshard.runners.settings import ProcessingSettings

C5 = {
    "instance_type": "ml.c5.4xlarge",
    "prices": {"ml.c5.4xlarge": 0.816},
    "vcpus": {"ml.c5.4xlarge": 16},
    "s3_read_mb_s": {"ml.c5.4xlarge": 1100},
    "s3_get_per_1000": 0.0004,
    "storage_gb_month": 0.14,
}
GROUP = 670 * 10**9


def _estimate(mode: str = "stream", pipelines=("profile",), **values) -> RunEstimate:
    settings = ProcessingSettings.from_sources({**C5, **values})
    return RunEstimate(settings, mode, list(pipelines))


def test_a_streamed_group_is_bound_by_reading_and_overlaps_its_compute() -> None:
    estimate = _estimate()
    job = estimate.job(GROUP, files=410_000, volume_gb=10)
    assert job.staging_s == 0
    assert job.reading_s == pytest.approx(GROUP / 1.1e9)  # 10 min at 1.1 GB/s
    assert job.compute_s == pytest.approx(GROUP / (200e6 * 16))
    assert job.total_s == pytest.approx(240 + GROUP / 1.1e9)


def test_a_staged_group_pays_for_the_copy_and_the_reads_from_its_volume() -> None:
    estimate = _estimate("file")
    job = estimate.job(GROUP, files=410_000, volume_gb=814)
    gp2 = 250 * 2**20  # a volume of 170 GiB or more
    assert job.staging_s == pytest.approx(GROUP / gp2)  # 43 minutes before any compute
    assert job.reading_s == pytest.approx(GROUP / gp2)
    small = estimate.job(10**9, files=100, volume_gb=20)
    assert small.staging_s == pytest.approx(10**9 / (128 * 2**20))
    fixed = _estimate("file", staging_mb_s=500).job(10**9, files=1, volume_gb=20)
    assert fixed.staging_s == pytest.approx(2.0)


def test_compute_adds_up_over_the_pipelines_a_job_runs() -> None:
    both = _estimate(pipelines=("profile", "clinical")).job(GROUP, files=1, volume_gb=10)
    assert both.compute_s == pytest.approx(GROUP / (200e6 * 16) + GROUP / (20e6 * 16))
    assert both.total_s == pytest.approx(240 + both.compute_s)  # clinical: compute-bound
    other = _estimate(pipelines=("features",), compute_default_mb_s_per_vcpu=50)
    assert other.job(GROUP, 1, 10).compute_s == pytest.approx(GROUP / (50e6 * 16))


def test_a_measured_rate_replaces_reading_and_compute() -> None:
    estimate = _estimate()
    estimate.measured = pricing.Rate(500e6, "measured over 2 sagemaker job(s)")
    job = estimate.job(GROUP, files=1, volume_gb=10)
    assert job.total_s == pytest.approx(240 + GROUP / 500e6)
    assert any("measured over 2 sagemaker job(s)" in line for line in estimate.assumptions())


def test_the_wall_clock_runs_jobs_in_order_as_slots_free_up() -> None:
    assert wall_clock([10, 10, 10, 10], 2) == 20
    assert wall_clock([30, 10, 10, 10], 2) == 30
    assert wall_clock([5, 5, 5], 10) == 5
    assert wall_clock([], 3) == 0


def test_costs_are_instances_volumes_and_requests_each_named() -> None:
    estimate = _estimate()
    for _ in range(10):
        estimate.job(GROUP, files=410_000, volume_gb=10)
    costs = estimate.costs()
    hours = 10 * (240 + GROUP / 1.1e9) / 3600
    assert costs["instances"] == pytest.approx(hours * 0.816)
    assert costs["S3 GETs"] == pytest.approx(4_100_000 / 1000 * 0.0004)
    assert costs["volumes"] == pytest.approx(10 * hours * 3600 / (30.4375 * 86400) * 0.14)
    text = "\n".join(estimate.assumptions())
    for setting in (
        "startup_s",
        "s3_read_mb_s",
        "compute_mb_s_per_vcpu",
        "prices",
        "s3_get_per_1000",
    ):
        assert setting in text


def test_a_listing_stands_for_the_bucket(tmp_path: Path) -> None:
    from waveshard.runners.inventories import ListingInventories

    listing = tmp_path / "listing.csv"
    listing.write_text(
        "key,size\n30/RECORDS,8\n30/3000003/3000003.hea,300\n30/3000003/3000003_0001.dat,9000\n"
        "31/3100001/3100001.hea,200\ns3://raw/mimic3wdb/1.0/32/3200002/3200002.hea,100\n"
    )
    found = ListingInventories(str(listing))
    thirty = found("s3://raw/mimic3wdb/1.0/30")
    assert (thirty.files, thirty.bytes, thirty.folders) == (3, 9308, 1)
    assert found("data/01_raw/31").bytes == 200  # relative keys: the folder holding the inputs
    assert found("s3://raw/mimic3wdb/1.0/32").bytes == 100  # full locations match as they are
    assert found("s3://raw/mimic3wdb/1.0/33").files == 0
    assert (found.files, found.bytes) == (5, 9608)

"""Rates for estimates: only from jobs of the same backend, instance type and input mode."""

from __future__ import annotations

from waveshard.runners import pricing
from waveshard.runners.estimates import RunEstimate
from waveshard.runners.settings import ProcessingSettings

LAPTOP = {"backend": "local", "instance_type": "ml.m5.xlarge", "seconds": 40, "input_bytes": 2e8}
CLOUD = {"backend": "sagemaker", "instance_type": "ml.m5.xlarge", "seconds": 10, "input_bytes": 2e9}
OLD = {"instance_type": "ml.m5.xlarge", "seconds": 1000, "input_bytes": 1e6}  # no backend


def test_local_timings_never_feed_sagemaker_estimates() -> None:
    sagemaker = ProcessingSettings(backend="sagemaker")
    rate, note = pricing.measured_rate(pricing.measured_rates([LAPTOP, OLD]), sagemaker, "file")
    assert rate is None
    assert "no completed sagemaker job on ml.m5.xlarge in file mode" in note
    assert "not used, other backend/instance/mode: local on ml.m5.xlarge, file mode" in note
    # a 670 GB group: the laptop's 5 MB/s would have said 37 hours
    estimate = RunEstimate(sagemaker, "file", ["profile"], measured=rate, measured_note=note)
    assert estimate.job(670 * 10**9, files=1, volume_gb=814).total_s < 10 * 3600
    assert any(note in line for line in estimate.assumptions())


def test_a_backends_own_jobs_measure_its_rate() -> None:
    rates = pricing.measured_rates([LAPTOP, CLOUD, OLD])
    sagemaker, _ = pricing.measured_rate(rates, ProcessingSettings(backend="sagemaker"), "file")
    assert sagemaker.bytes_per_s == 2e8
    assert sagemaker.source == "measured over 1 sagemaker job(s) on ml.m5.xlarge, file mode"
    local, _ = pricing.measured_rate(rates, ProcessingSettings(backend="local"), "file")
    assert local.bytes_per_s == 5e6
    # staging first and streaming are timed apart
    streamed = {**CLOUD, "input_mode": "stream", "seconds": 4}
    rates = pricing.measured_rates([CLOUD, streamed])
    stream, _ = pricing.measured_rate(rates, ProcessingSettings(backend="sagemaker"), "stream")
    assert stream.bytes_per_s == 5e8

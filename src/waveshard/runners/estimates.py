"""Where a job's time goes, what a run costs, and how long it takes on the wall clock.

A job's time is its start-up, then (``input_mode: file``) the copy of its input onto
its volume, then reading and computing, which overlap (workers compute while other
reads are in flight), so the longer of the two counts:

    runtime = startup + staging + max(reading, compute)

Reading is S3 at the instance type's ``s3_read_mb_s`` (stream) or the volume at the
staging rate (file); compute is the job's bytes at ``compute_mb_s_per_vcpu`` of each
registered pipeline it runs, times the instance's vCPUs. A rate measured by earlier
jobs of the same backend, instance type and input mode replaces reading and compute.
Every number comes from a setting or a measurement, and :meth:`RunEstimate.assumptions`
names each one.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from waveshard.runners import pricing
from waveshard.runners.settings import ProcessingSettings

#: gp2 throughput: 128 MiB/s for volumes under 170 GiB, 250 MiB/s from there.
GP2_SMALL, GP2_LARGE, GP2_THRESHOLD_GB = 128 * 2**20, 250 * 2**20, 170 * 2**30 / 1e9
#: Used when the instance facts lack the type (and said so in the plan).
FALLBACK_VCPUS, FALLBACK_READ_MB_S = 2, 100.0
SECONDS_PER_MONTH = 30.4375 * 86400


@dataclass(frozen=True)
class JobEstimate:
    """One job's time, by where it goes (seconds).

    Attributes:
        measured_s: Reading and compute at a rate earlier jobs measured, replacing
            ``reading_s`` and ``compute_s`` when set.
    """

    startup_s: float
    staging_s: float
    reading_s: float
    compute_s: float
    measured_s: float | None = None

    @property
    def total_s(self) -> float:
        work = (
            self.measured_s if self.measured_s is not None else max(self.reading_s, self.compute_s)
        )
        return self.startup_s + self.staging_s + work


def staging_bytes_per_s(settings: ProcessingSettings, volume_gb: int) -> float:
    """Copy onto (and reads from) a job's volume: the setting, else gp2's limit."""
    if settings.staging_mb_s:
        return settings.staging_mb_s * 1e6
    return GP2_LARGE if volume_gb >= GP2_THRESHOLD_GB else GP2_SMALL


def wall_clock(durations: list[float], slots: int) -> float:
    """When the last job ends if jobs start in order, ``slots`` at a time."""
    ends: list[float] = []
    for duration in durations:
        start = heapq.heappop(ends) if len(ends) >= slots else 0.0
        heapq.heappush(ends, start + duration)
    return max(ends, default=0.0)


@dataclass
class RunEstimate:
    """The estimates of one run's jobs and what they rest on.

    Args:
        settings: Instance type and count, rates, prices.
        mode: The jobs' input mode.
        pipelines: Registered pipelines whose nodes the jobs run (for compute rates).
        measured: A rate measured by earlier jobs of the same backend, instance type
            and mode, or ``None``.
        measured_note: Why no measured rate is used, when none is.
    """

    settings: ProcessingSettings
    mode: str
    pipelines: list[str]
    measured: pricing.Rate | None = None
    measured_note: str = ""
    jobs: list[tuple[JobEstimate, int, int]] = field(default_factory=list)

    @property
    def vcpus(self) -> int:
        return int(self.settings.vcpus.get(self.settings.instance_type, FALLBACK_VCPUS))

    @property
    def read_bytes_per_s(self) -> float:
        rate = self.settings.s3_read_mb_s.get(self.settings.instance_type, FALLBACK_READ_MB_S)
        return float(rate) * 1e6

    def compute_rates(self) -> dict[str, float]:
        """MB/s per vCPU of each pipeline the jobs run (the default for unlisted ones)."""
        rates = self.settings.compute_mb_s_per_vcpu
        default = self.settings.compute_default_mb_s_per_vcpu
        return {p: float(rates.get(p, default)) for p in self.pipelines} or {"(any)": default}

    def job(self, nbytes: int, files: int, volume_gb: int) -> JobEstimate:
        """The estimate of a job reading ``nbytes`` in ``files`` objects, kept for the totals."""
        settings = self.settings
        staged = self.mode == "file"
        staging = nbytes / staging_bytes_per_s(settings, volume_gb) if staged else 0.0
        reading = nbytes / (
            staging_bytes_per_s(settings, volume_gb) if staged else self.read_bytes_per_s
        )
        compute = sum(nbytes / (rate * 1e6 * self.vcpus) for rate in self.compute_rates().values())
        measured = nbytes / self.measured.bytes_per_s if self.measured else None
        estimate = JobEstimate(settings.startup_s, staging, reading, compute, measured)
        self.jobs.append((estimate, files, volume_gb))
        return estimate

    def instance_seconds(self) -> float:
        return sum(e.total_s for e, _, _ in self.jobs) * self.settings.instance_count

    def wall_s(self) -> float:
        return wall_clock([e.total_s for e, _, _ in self.jobs], self.settings.max_concurrent_jobs)

    def costs(self) -> dict[str, float | None]:
        """USD of instances, volumes and S3 GET requests (``None``: no price for it)."""
        settings = self.settings
        volume_gb_s = sum(e.total_s * gb for e, _, gb in self.jobs) * settings.instance_count
        files = sum(f for _, f, _ in self.jobs)
        return {
            "instances": pricing.cost(
                settings.prices, settings.instance_type, self.instance_seconds()
            ),
            "volumes": None
            if settings.storage_gb_month is None
            else volume_gb_s / SECONDS_PER_MONTH * settings.storage_gb_month,
            "S3 GETs": None
            if settings.s3_get_per_1000 is None
            else files / 1000 * settings.s3_get_per_1000,
        }

    def assumptions(self) -> list[str]:
        """Every rate and price the estimates used, with the setting it comes from."""
        settings = self.settings
        kind = settings.instance_type
        lines = [f"start-up: {settings.startup_s:.0f} s per job (startup_s: provisioning, image)"]
        if self.mode == "file":
            lines.append(
                "staging (input_mode file): the input copied onto the job's volume, then read "
                "back from it, each at "
                + (
                    f"staging_mb_s={settings.staging_mb_s:g} MB/s"
                    if settings.staging_mb_s
                    else "gp2's limit: 134 MB/s under 170 GiB, 262 MB/s from there"
                )
            )
        if self.measured is not None:
            rate = self.measured.bytes_per_s / 1e6
            lines.append(f"reading + compute: {rate:,.0f} MB/s, {self.measured.source}")
        else:
            if self.mode == "stream":
                known = kind in settings.s3_read_mb_s
                lines.append(
                    f"reading (input_mode stream): S3 at {self.read_bytes_per_s / 1e6:,.0f} MB/s "
                    f"per {kind} (s3_read_mb_s"
                    + ("" if known else f": none for {kind}, assumed")
                    + "; enough requests in flight)"
                )
            rates = ", ".join(f"{p} {r:g}" for p, r in self.compute_rates().items())
            known = kind in settings.vcpus
            lines.append(
                f"compute: {rates} MB/s per vCPU (compute_mb_s_per_vcpu) × {self.vcpus} vCPU"
                + ("" if known else f" (none listed for {kind}, assumed)")
            )
            lines.append(
                "reading and compute overlap: a job takes start-up + staging + the longer one; "
                + (self.measured_note or "no earlier job measured a rate")
            )
        price = pricing.hourly_price(settings.prices, kind)
        lines.append(
            "cost: instance-time × "
            + (f"${price:g}/h" if price is not None else "(no price)")
            + f" for {kind} (prices)"
            + (
                f"; volumes × ${settings.storage_gb_month:g}/GB-month (storage_gb_month)"
                if settings.storage_gb_month is not None
                else ""
            )
            + (
                f"; one S3 GET per object × ${settings.s3_get_per_1000:g}/1,000 (s3_get_per_1000)"
                if settings.s3_get_per_1000 is not None
                else ""
            )
            + "; prices are us-east-1 on-demand (conf/base/instance_prices.yml)"
        )
        lines.append(
            "not included: the non-namespaced nodes (combine), S3 LIST requests, and transfer "
            "(free within a region)"
        )
        return lines

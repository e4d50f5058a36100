"""What the runner shows: the dry-run plan, the live status table and the summary."""

from __future__ import annotations

import time
from contextlib import nullcontext

from waveshard.runners import pricing
from waveshard.runners.backends import elapsed
from waveshard.runners.scheduler import JobRun
from waveshard.runners.settings import ProcessingSettings


def show(renderable) -> None:
    """Print a table (wide enough not to wrap job names) or a line of text (never wrapped)."""
    if isinstance(renderable, str):
        print(renderable, flush=True)
        return
    from rich.console import Console

    Console(width=160).print(renderable)


def live(settings: ProcessingSettings):
    """A context giving ``update(table)``: a live table in a terminal, else nothing."""
    from rich.console import Console
    from rich.live import Live

    console = Console(stderr=True)
    if settings.live and console.is_terminal:
        return Live(console=console, refresh_per_second=2)

    class _Quiet:
        def update(self, _):
            pass

    return nullcontext(_Quiet())


def status_table(jobs: list[JobRun]):
    """One row per job: namespace, job name, status, elapsed, records, bytes."""
    from rich.table import Table

    table = Table(title="Processing jobs")
    for column in ("namespace", "job", "status", "elapsed", "records", "bytes"):
        table.add_column(column)
    for job in jobs:
        state = job.state
        if job.skipped:
            status, took = "skipped", ""
        else:
            status = state.status if state else job.outcome
            took = _elapsed(job)
        table.add_row(
            job.spec.key,
            job.name,
            status,
            took,
            str(job.records),
            pricing.format_bytes(job.input_bytes),
        )
    return table


def where_jobs_run(settings: ProcessingSettings) -> str:
    """Backend, and for SageMaker the region, role and image the jobs would get."""
    if settings.backend != "sagemaker":
        return f"backend={settings.backend} (this machine)"
    missing = "not set (needed to submit)"
    return (
        f"backend=sagemaker  region={settings.region or missing}  "
        f"role={settings.role_arn or missing}  image={settings.image_uri or missing}"
    )


def _elapsed(job: JobRun) -> str:
    """Time since the job started (as the backend says), or since it was submitted."""
    if job.state is not None and job.state.started is not None:
        return pricing.format_seconds(elapsed(job.state))
    if job.outcome == "running":
        return pricing.format_seconds(time.time() - job.submitted_at)
    return ""


def print_plan(jobs: list[JobRun], settings: ProcessingSettings, rate: pricing.Rate) -> None:
    """The dry-run plan: per namespace records, bytes, instance, runtime and cost; totals."""
    from rich.table import Table

    show(f"Plan (dry run, nothing submitted): {where_jobs_run(settings)}")
    table = Table(title=f"Plan (dry run, nothing submitted; backend={settings.backend})")
    for column in (
        "namespace",
        "action",
        "records",
        "bytes",
        "instance",
        "est. runtime",
        "est. cost",
    ):
        table.add_column(column)
    total_s = total_cost = 0.0
    total_bytes = total_records = 0
    for job in jobs:
        seconds = 0.0 if job.skipped or job.empty else job.estimate_s * settings.instance_count
        value = pricing.cost(settings.prices, settings.instance_type, seconds)
        total_s += seconds
        total_cost += value or 0.0
        total_bytes += job.input_bytes
        total_records += job.records
        idle = job.skipped or job.empty
        table.add_row(
            job.spec.key,
            "skip (complete)"
            if job.skipped
            else "empty (no job)"
            if job.empty
            else "run (est. > max_runtime_s!)"
            if job.estimate_s > settings.max_runtime_s
            else "run",
            str(job.records),
            pricing.format_bytes(job.input_bytes),
            "-"
            if idle
            else f"{settings.instance_count} × {settings.instance_type}, "
            f"{job.spec.volume_size_gb or settings.volume_size_gb} GB",
            "-" if idle else pricing.format_seconds(job.estimate_s),
            "-" if idle else pricing.format_cost(value),
        )
    table.add_row(
        "TOTAL",
        f"{sum(not j.skipped and not j.empty for j in jobs)} job(s)",
        str(total_records),
        pricing.format_bytes(total_bytes),
        "",
        f"{pricing.format_seconds(total_s)} instance-time",
        pricing.format_cost(total_cost),
    )
    show(table)
    show(
        f"Runtime estimate: {settings.startup_s:.0f} s start-up + bytes at "
        f"{rate.bytes_per_s / 1e6:,.1f} MB/s, {rate.source}; "
        f"at most {settings.max_concurrent_jobs} job(s) at a time."
    )


def print_summary(jobs: list[JobRun], settings: ProcessingSettings) -> None:
    """Per-namespace outcome, total instance-seconds and estimated cost."""
    from rich.table import Table

    table = Table(title="Processing jobs: summary")
    for column in ("namespace", "job", "outcome", "instance-s", "cost", "detail / logs"):
        table.add_column(column, overflow="fold")
    total = 0.0
    for job in jobs:
        total += job.instance_seconds
        table.add_row(
            job.spec.key,
            job.name or "-",
            job.outcome,
            f"{job.instance_seconds:.0f}",
            pricing.format_cost(
                pricing.cost(settings.prices, settings.instance_type, job.instance_seconds)
            ),
            job.reason or job.log_link,
        )
    show(table)
    estimate = pricing.cost(settings.prices, settings.instance_type, total)
    show(
        f"Total: {total:.0f} instance-seconds, estimated cost "
        f"{pricing.format_cost(estimate)} ({settings.instance_type}, backend="
        f"{settings.backend})."
    )

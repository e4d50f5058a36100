"""What the runner shows: the dry-run plan, the live status table and the summary."""

from __future__ import annotations

import time
from contextlib import nullcontext

from waveshard.runners import pricing
from waveshard.runners.backends import elapsed
from waveshard.runners.estimates import RunEstimate
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


def print_plan(jobs: list[JobRun], settings: ProcessingSettings, estimate: RunEstimate) -> None:
    """The dry-run plan: per job what it reads and where its time goes; totals; assumptions."""
    from rich.table import Table

    show(f"Plan (dry run, nothing submitted): {where_jobs_run(settings)}")
    table = Table(title=f"Plan: input_mode {estimate.mode}, {settings.instance_type}")
    columns = ("namespace", "action", "records", "bytes", "volume", "start-up", "staging")
    for column in (*columns, "reading", "compute", "est. runtime", "est. cost"):
        table.add_column(column, justify="left" if column in ("namespace", "action") else "right")
    fmt = pricing.format_seconds
    for job in jobs:
        e = job.estimate
        action = (
            "skip (complete)"
            if job.skipped
            else "empty (no job)"
            if job.empty
            else "run (est. > max_runtime_s!)"
            if job.estimate_s > settings.max_runtime_s
            else "run"
        )
        times = (
            ["-"] * 4
            if e is None
            else [
                fmt(e.startup_s),
                fmt(e.staging_s) if e.staging_s else "-",
                "(measured)" if e.measured_s is not None else fmt(e.reading_s),
                fmt(e.measured_s) if e.measured_s is not None else fmt(e.compute_s),
            ]
        )
        cost = (
            None
            if e is None
            else pricing.cost(
                settings.prices, settings.instance_type, e.total_s * settings.instance_count
            )
        )
        table.add_row(
            job.spec.key,
            action,
            f"{job.records:,}",
            pricing.format_bytes(job.input_bytes),
            "-" if e is None else f"{job.spec.volume_size_gb} GB",
            *times,
            "-" if e is None else fmt(e.total_s),
            "-" if e is None else pricing.format_cost(cost),
        )
    running = [j for j in jobs if j.estimate is not None]
    table.add_row(
        "TOTAL",
        f"{len(running)} job(s)",
        f"{sum(j.records for j in jobs):,}",
        pricing.format_bytes(sum(j.input_bytes for j in jobs)),
        *[""] * 5,
        fmt(estimate.instance_seconds()) + " inst.",
        pricing.format_cost(estimate.costs()["instances"]),
    )
    show(table)
    costs = estimate.costs()
    total = sum(v for v in costs.values() if v is not None)
    show(
        f"Wall-clock: {fmt(estimate.wall_s())} with max_concurrent_jobs="
        f"{settings.max_concurrent_jobs} ({len(running)} job(s), started in this order as "
        f"slots free up); instance time {fmt(estimate.instance_seconds())} "
        f"({settings.instance_count} × {settings.instance_type} per job); cost "
        + " + ".join(f"{pricing.format_cost(v)} {k}" for k, v in costs.items() if v is not None)
        + f" = {pricing.format_cost(total)}."
    )
    show("Assumptions:")
    for line in estimate.assumptions():
        show(f"  - {line}")
    if settings.backend == "sagemaker" and running:
        show(
            f"Quota: new AWS accounts often have a quota of 0 for '{settings.instance_type} for "
            "processing job usage' (Service Quotas → Amazon SageMaker): request at least "
            f"{min(settings.max_concurrent_jobs, len(running)) * settings.instance_count} "
            "before running, or jobs fail with ResourceLimitExceeded."
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

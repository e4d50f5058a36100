"""Before submitting: which jobs are complete or empty, how big each is, what it will take."""

from __future__ import annotations

import dataclasses

from waveshard.runners import marker as markers
from waveshard.runners import pricing
from waveshard.runners.estimates import RunEstimate
from waveshard.runners.planning import volume_size
from waveshard.runners.scheduler import JobRun
from waveshard.runners.settings import ProcessingSettings


def pipelines_of(nodes: set[str]) -> list[str]:
    """The registered pipelines (not ``__default__``) holding any of ``nodes``."""
    try:
        from kedro.framework.project import pipelines

        return sorted(
            name
            for name, pipeline in pipelines.items()
            if name != "__default__" and nodes & {n.name for n in pipeline.nodes}
        )
    except Exception:  # no configured project (the runner used on its own)
        return []


def inspect_jobs(jobs: list[JobRun], settings: ProcessingSettings, inventory) -> RunEstimate:
    """Mark complete jobs skipped and empty ones empty, size every job, estimate it.

    Returns:
        The run's estimates: per job, and what they rest on (a rate measured on
        this backend, instance type and input mode by earlier jobs, or the model).
    """
    seen = []
    for job in jobs:
        # A plan from a listing is for outputs that do not exist yet.
        found = (
            None
            if settings.listing
            else markers.read_marker(job.spec.output_uri, job.spec.marker_name)
        )
        if found:
            seen.append(found)
        if markers.is_complete(found, job.spec.fingerprint) and not settings.force:
            job.skipped, job.outcome = True, "skipped"
            job.reason = "complete (same code and config)"
        sizes = (
            [job.spec.partition]
            if job.spec.partition is not None
            else [inventory(i.uri) for i in job.spec.inputs]
        )
        job.records = sum(s.folders for s in sizes)
        job.files = sum(s.files for s in sizes)
        job.input_bytes = sum(s.bytes for s in sizes)
        if job.spec.inputs and job.files == 0 and not job.skipped:
            job.outcome, job.reason = "empty", "no input objects: no job, ran in the driver"
    mode = min({i.mode for j in jobs for i in j.spec.inputs} or {"file"})
    measured, note = pricing.measured_rate(pricing.measured_rates(seen), settings, mode)
    estimate = RunEstimate(
        settings,
        mode,
        pipelines_of({n for j in jobs for n in j.spec.nodes}),
        measured=measured,
        measured_note=note,
    )
    for job in jobs:
        staged = any(i.mode == "file" for i in job.spec.inputs)
        size = volume_size(job.input_bytes if staged else 0, job.spec.key, settings)
        job.spec = dataclasses.replace(job.spec, volume_size_gb=size)
        if not (job.skipped or job.empty):
            job.estimate = estimate.job(job.input_bytes, job.files, size)
            job.estimate_s = job.estimate.total_s
    return estimate

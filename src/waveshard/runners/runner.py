"""``ProcessingJobRunner``: one Processing job per namespace, then the rest in the driver.

``kedro run --env aws --runner waveshard.runners.ProcessingJobRunner
--runner-params backend=sagemaker,max_concurrent_jobs=4``

The runner works on namespaces only: every top-level namespace of the pipeline
becomes one job that runs that namespace's nodes inside the container; nodes
outside any namespace run in the driver once every job succeeded. This class
only orchestrates; each step lives in its own module:

* :mod:`~waveshard.runners.settings` — settings and their defaults;
* :mod:`~waveshard.runners.planning` — which jobs, reading and writing what, with
  :mod:`~waveshard.runners.partitions` (a group split into runs of whole records) and
  :mod:`~waveshard.runners.inventories` (what the inputs hold);
* :mod:`~waveshard.runners.inspection` — complete, empty, size and estimate
  (:mod:`~waveshard.runners.estimates`) of each job;
* :mod:`~waveshard.runners.shipping` — the code and configuration the jobs run;
* :mod:`~waveshard.runners.scheduler` — submit, poll, stop and finish jobs;
* :mod:`~waveshard.runners.parts` and :mod:`~waveshard.runners.partial` — combine
  reading split groups in parts, failed jobs: rerun command, partial combine;
* :mod:`~waveshard.runners.tables` — plan, live status and summary tables.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner

from waveshard.runners import marker as markers
from waveshard.runners import storage, tables
from waveshard.runners.backends import make_backend
from waveshard.runners.context import RunContext
from waveshard.runners.inspection import inspect_jobs
from waveshard.runners.inventories import Inventories, ListingInventories
from waveshard.runners.job_spec import JobSpec, build_request, job_files
from waveshard.runners.partial import (
    ProcessingJobsFailed,
    clear_partial_record,
    partial_pipeline,
    rerun_command,
)
from waveshard.runners.parts import part_datasets, read_in_parts
from waveshard.runners.planning import (
    WORK_FOLDER,
    parts_layout,
    plan_combine_job,
    plan_jobs,
    run_root,
    split_by_namespace,
)
from waveshard.runners.scheduler import JobRun, Scheduler
from waveshard.runners.settings import (
    ProcessingSettings,
    load_settings,
    unknown_names_error,
)
from waveshard.runners.shipping import build_artefacts, code_base, upload_artefacts

logger = logging.getLogger(__name__)

__all__ = ["ProcessingJobRunner", "ProcessingJobsFailed"]


class ProcessingJobRunner(AbstractRunner):
    """Runs each namespace as a SageMaker Processing job (or a local stand-in).

    Every argument overrides the same-named key of ``conf/<env>/processing.yml``
    (``None`` keeps it); see that file for their meaning. Settings without an
    explicit argument here (``tags``, ``forward_env``, ...) are accepted by name too.

    Args:
        is_async: Load and save the driver nodes' data with threads.
        env: Kedro environment whose ``processing.yml`` applies, when the runner is
            used outside ``kedro run`` (which tells it ``--env``).
        boto_session: boto3 session for SageMaker calls (tests hook requests on it).
    """

    def __init__(
        self,
        *,
        is_async: bool = False,
        env: str | None = None,
        backend: str | None = None,
        role_arn: str | None = None,
        image_uri: str | None = None,
        instance_type: str | None = None,
        instance_count: int | None = None,
        volume_size_gb: int | None = None,
        max_runtime_s: int | None = None,
        max_concurrent_jobs: int | None = None,
        code_uri: str | None = None,
        region: str | None = None,
        dry_run: bool | None = None,
        force: bool | None = None,
        allow_partial: bool | None = None,
        poll_initial_s: float | None = None,
        poll_max_s: float | None = None,
        local_work_dir: str | None = None,
        live: bool | None = None,
        boto_session: Any | None = None,
        **more_settings: Any,
    ) -> None:
        super().__init__(is_async=is_async)
        unknown = sorted(set(more_settings) - set(ProcessingSettings.names()))
        if unknown:
            raise unknown_names_error(unknown, "--runner-params")
        self._env = env
        self._overrides = {
            "backend": backend,
            "role_arn": role_arn,
            "image_uri": image_uri,
            "instance_type": instance_type,
            "instance_count": instance_count,
            "volume_size_gb": volume_size_gb,
            "max_runtime_s": max_runtime_s,
            "max_concurrent_jobs": max_concurrent_jobs,
            "code_uri": code_uri,
            "region": region,
            "dry_run": dry_run,
            "force": force,
            "allow_partial": allow_partial,
            "poll_initial_s": poll_initial_s,
            "poll_max_s": poll_max_s,
            "local_work_dir": local_work_dir,
            "live": live,
            **more_settings,
        }
        self._boto_session = boto_session
        #: Every job of the last run, in the order they were planned.
        self.jobs: list[JobRun] = []
        #: Every request the last run sent.
        self.requests: list[dict[str, Any]] = []

    def _get_executor(self, max_workers: int) -> None:
        # The driver runs the non-namespaced nodes one by one; parallelism is in the jobs.
        return None

    def _run(self, pipeline: Pipeline, catalog, hook_manager=None, run_id=None) -> None:
        context = RunContext.detect(self._env)
        settings = load_settings(
            env=context.env, conf_source=context.conf_source, overrides=self._overrides
        )
        # Before anything is planned, skipped, uploaded or submitted.
        settings = settings.checked(
            default_region=_default_region() if settings.backend == "sagemaker" else None,
            submitting=not settings.dry_run,
        )
        namespaces, rest = split_by_namespace(pipeline)
        if not namespaces:
            logger.info("No namespaced nodes: running everything in the driver.")
            super()._run(pipeline, catalog, hook_manager, run_id)
            return
        from kedro.framework.project import PACKAGE_NAME

        package = PACKAGE_NAME or "waveshard"
        inventory = ListingInventories(settings.listing) if settings.listing else Inventories()
        specs = plan_jobs(namespaces, rest, catalog, context, settings, inventory=inventory)
        combine_spec = None
        if settings.combine == "job" and rest.nodes:
            combine_spec = plan_combine_job(rest, specs, catalog, context, settings)
        root = run_root(pipeline, catalog)
        code_prefix = code_base(settings, root)
        artefacts = build_artefacts(context, package, settings)
        forwarded = {k: os.environ[k] for k in settings.forward_env if k in os.environ}

        def fingerprinted(spec: JobSpec, **more_inputs: str) -> JobRun:
            fp = markers.fingerprint(
                artefacts_digest=artefacts.digest,
                image_uri=settings.image_uri,
                namespace=spec.namespace,
                nodes=list(spec.nodes),
                inputs={**{i.channel: i.uri for i in spec.inputs}, **more_inputs},
                params=spec.params,
                environment=forwarded,
                entries=spec.partition.entries if spec.split else None,
                isolation=settings.isolation if settings.backend == "local" else "none",
            )
            return JobRun(spec=dataclasses.replace(spec, fingerprint=fp))

        jobs = [fingerprinted(spec) for spec in specs]
        self.jobs = list(jobs)
        estimate = inspect_jobs(jobs, settings, inventory)
        if settings.dry_run:
            tables.print_plan(jobs, settings, estimate)
            if settings.listing:
                tables.show(
                    f"Planned from the listing {settings.listing} ({inventory.files:,} objects, "
                    f"{inventory.bytes / 1e12:,.2f} TB), not from the bucket."
                )
            if combine_spec is not None:
                tables.show(
                    "combine=job: the non-namespaced nodes run as one more job after these."
                )
            return

        empty = [j for j in jobs if j.empty]
        if empty:
            # Nothing to read: the nodes write their (empty) outputs here, no job is paid.
            logger.info(
                "No input objects for %s: no job; their nodes run in the driver.",
                ", ".join(j.spec.key for j in empty),
            )
            super()._run(
                Pipeline([namespaces[j.spec.namespace] for j in empty]),
                catalog,
                hook_manager,
                run_id,
            )
        submission = _Submission(
            self,
            settings=settings,
            package=package,
            artefacts=artefacts,
            code_prefix=code_prefix,
            jobs_prefix=storage.join(root, WORK_FOLDER, "jobs"),
            environment={
                **forwarded,
                # Recorded in the completion marker: whose timings it holds.
                "WAVESHARD_BACKEND": settings.backend,
                "WAVESHARD_INSTANCE_TYPE": settings.instance_type,
            },
        )
        todo = [j for j in jobs if not j.skipped and not j.empty]
        if todo:
            submission.run(todo)
        failed = [j for j in jobs if j.outcome == "failed"]
        if combine_spec is not None and not failed:
            # The combine job's fingerprint covers the groups' (a rerun group reruns it).
            combine = fingerprinted(combine_spec, **{j.spec.key: j.spec.fingerprint for j in jobs})
            self.jobs.append(combine)
            inspect_jobs([combine], settings, inventory)
            clear_partial_record(rest, catalog)
            if not combine.skipped:
                submission.run([combine])
            tables.print_summary(self.jobs, settings)
            if combine.outcome == "failed":
                raise ProcessingJobsFailed(
                    f"The combine job failed ({combine.reason}); every namespace's outputs "
                    "are kept. Fix the cause and rerun the same command: completed "
                    "namespaces are skipped and only the combine job runs."
                )
            return
        tables.print_summary(jobs, settings)
        self._driver_tail(
            rest,
            catalog,
            jobs=jobs,
            failed=failed,
            combine_spec=combine_spec,
            context=context,
            settings=settings,
            hook_manager=hook_manager,
            run_id=run_id,
        )

    def _driver_tail(
        self,
        rest: Pipeline,
        catalog,
        *,
        jobs: list[JobRun],
        failed: list[JobRun],
        combine_spec: JobSpec | None,
        context: RunContext,
        settings: ProcessingSettings,
        hook_manager,
        run_id,
    ) -> None:
        """After the jobs: the rerun command, then the non-namespaced nodes (or not)."""
        failed_namespaces = list(dict.fromkeys(j.spec.namespace for j in failed))
        if failed:
            command = rerun_command(context.argv, failed_namespaces)
            # Plain print: a log handler or traceback renderer would wrap the command.
            print(f"RERUN (failed namespaces only): {command}", flush=True)
            every = {j.spec.namespace for j in jobs if not j.empty}
            if settings.allow_partial and set(failed_namespaces) >= every:
                raise ProcessingJobsFailed(
                    f"Every job failed ({', '.join(failed_namespaces)}): nothing to combine, "
                    f"even with allow_partial=true. Rerun with:\n  {command}"
                )
            if not settings.allow_partial:
                raise ProcessingJobsFailed(
                    f"{len(failed)} of {len(jobs)} job(s) failed ({', '.join(failed_namespaces)}); "
                    "the other namespaces' outputs are kept and the non-namespaced nodes did "
                    f"not run. Rerun only the failed ones with:\n  {command}\nthen the same "
                    "command without --namespaces to combine (completed namespaces are skipped)."
                )
        if not rest.nodes:
            return
        # A namespace split into partitions is read as its parts; a failed one not at all.
        complete = [j.spec for j in jobs if j.spec.namespace not in failed_namespaces]
        parts = part_datasets(catalog, parts_layout(complete))
        if failed:
            if combine_spec is not None:
                logger.warning(
                    "combine=job with allow_partial=true and failed namespaces: the "
                    "partial combine runs in the driver."
                )
            rest = partial_pipeline(rest, failed, catalog, parts=parts)
        else:
            clear_partial_record(rest, catalog)
            rest = read_in_parts(rest, catalog, parts)
        super()._run(rest, catalog, hook_manager, run_id)


class _Submission:
    """Ships the code once, then runs batches of jobs on the backend with a live table."""

    def __init__(
        self,
        runner: ProcessingJobRunner,
        *,
        settings: ProcessingSettings,
        package: str,
        artefacts,
        code_prefix: str,
        jobs_prefix: str,
        environment: dict[str, str],
    ) -> None:
        self.runner = runner
        self.settings = settings
        self.package = package
        self.artefacts = artefacts
        self.code_prefix = code_prefix
        self.jobs_prefix = jobs_prefix
        self.environment = environment
        self.scheduler: Scheduler | None = None
        self.code_uri = ""

    def build(self, job: JobRun, name: str) -> dict[str, Any]:
        """The job's request; its job files are uploaded first."""
        spec = job.spec
        job_uri = storage.join(self.jobs_prefix, spec.key, spec.fingerprint[:16])
        mode = spec.inputs[0].mode if spec.inputs else "file"
        for file_name, text in job_files(
            spec, input_bytes=job.input_bytes, input_mode=mode
        ).items():
            storage.put_text(text, storage.join(job_uri, file_name))
        return build_request(
            spec,
            self.settings,
            name=name,
            package=self.package,
            code_uri=self.code_uri,
            job_uri=job_uri,
            wheel=self.artefacts.wheel_name,
            conf_archive=self.artefacts.conf_name,
            environment=self.environment,
        )

    def run(self, batch: list[JobRun]) -> None:
        if self.scheduler is None:
            self.code_uri = upload_artefacts(self.artefacts, self.code_prefix)
            backend = make_backend(self.settings, self.runner._boto_session)
            self.scheduler = Scheduler(backend, self.settings, build=self.build)
        scheduler = self.scheduler
        with tables.live(self.settings) as display:
            scheduler.on_change = lambda: display.update(tables.status_table(self.runner.jobs))
            try:
                scheduler.run(batch)
            finally:
                self.runner.requests = list(scheduler.requests)


def _default_region() -> str | None:
    """The region boto3 would use: AWS_REGION / AWS_DEFAULT_REGION or the profile's."""
    import boto3

    return boto3.session.Session().region_name

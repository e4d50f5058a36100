"""``ProcessingJobRunner``: one Processing job per namespace, then the rest in the driver.

``kedro run --env aws --runner waveshard.runners.ProcessingJobRunner
--runner-params backend=sagemaker,max_concurrent_jobs=4``

The runner works on namespaces only: every top-level namespace of the pipeline
becomes one job that runs that namespace's nodes inside the container; nodes
outside any namespace run in the driver once every job succeeded.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shlex
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner

from waveshard.runners import marker as markers
from waveshard.runners import pricing, storage
from waveshard.runners.backends import TERMINAL, AdaptiveThrottle, Backend, JobState
from waveshard.runners.job_spec import (
    INPUT_ROOT,
    OUTPUT_ROOT,
    PROCESSING_ROOT,
    JobInput,
    JobSpec,
    build_request,
    job_name,
    volume_for,
)
from waveshard.runners.settings import ProcessingSettings, SettingsError

logger = logging.getLogger(__name__)
#: Attempts per job fingerprint (a failed or stopped attempt's name cannot be reused).
MAX_ATTEMPTS = 50


class ProcessingJobsFailed(RuntimeError):
    """Some namespaces' jobs failed; the message holds the command that reruns them."""


@dataclass
class RunContext:
    """What ``kedro run`` was called with (the runner API does not pass it)."""

    env: str | None
    runtime_params: dict[str, Any]
    project_path: Path
    conf_source: Path
    argv: list[str]

    @classmethod
    def detect(cls, env: str | None = None) -> RunContext:
        import click
        from kedro.framework.project import settings
        from kedro.utils import find_kedro_project

        ctx = click.get_current_context(silent=True)
        params = dict(ctx.params) if ctx is not None else {}
        project = find_kedro_project(Path.cwd()) or Path.cwd()
        conf = params.get("conf_source") or (project / settings.CONF_SOURCE)
        return cls(
            env=env or params.get("env") or os.environ.get("KEDRO_ENV"),
            runtime_params=dict(params.get("params") or {}),
            project_path=Path(project),
            conf_source=Path(conf),
            argv=list(sys.argv),
        )


@dataclass
class JobRun:
    """One namespace's job through the run."""

    spec: JobSpec
    records: int = 0
    input_bytes: int = 0
    name: str = ""
    state: JobState | None = None
    created: bool = False
    skipped: bool = False
    outcome: str = "pending"
    reason: str = ""
    log_link: str = ""
    estimate_s: float = 0.0
    instance_seconds: float = 0.0
    submitted_at: float = field(default_factory=time.time)


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
            raise SettingsError(
                f"Unknown --runner-params {unknown}: valid names are "
                f"{', '.join(ProcessingSettings.names())}."
            )
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
        self.jobs: list[JobRun] = []
        self.requests: list[dict[str, Any]] = []

    def _get_executor(self, max_workers: int) -> None:
        # The driver runs the non-namespaced nodes one by one; parallelism is in the jobs.
        return None

    # ------------------------------------------------------------------ run
    def _run(self, pipeline: Pipeline, catalog, hook_manager=None, run_id=None) -> None:
        context = RunContext.detect(self._env)
        settings = load_settings(context, self._overrides)
        groups, rest = split_by_namespace(pipeline)
        if not groups:
            logger.info("No namespaced nodes: running everything in the driver.")
            super()._run(pipeline, catalog, hook_manager, run_id)
            return
        from kedro.framework.project import PACKAGE_NAME

        package = PACKAGE_NAME or "waveshard"
        specs = plan_jobs(groups, rest, catalog, context, settings)
        combine_spec = None
        if settings.combine == "job" and rest.nodes:
            combine_spec = plan_combine_job(rest, specs, catalog, context, settings)
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
            )
            return JobRun(spec=_with(spec, fingerprint=fp))

        jobs = [fingerprinted(spec) for spec in specs]
        self.jobs = list(jobs)
        rates = self._inspect(jobs, settings)
        if settings.dry_run:
            print_plan(jobs, settings, rates)
            if combine_spec is not None:
                _print("combine=job: the non-namespaced nodes run as one more job after these.")
            return
        submit = self._submitter(
            settings=settings,
            context=context,
            package=package,
            artefacts=artefacts,
            forwarded=forwarded,
        )
        todo = [j for j in jobs if not j.skipped]
        if todo:
            submit(todo)
        failed = [j for j in jobs if j.outcome == "failed"]
        if combine_spec is not None and not failed:
            # The combine job's fingerprint covers the groups' (a rerun group reruns it).
            combine = fingerprinted(
                combine_spec, **{j.spec.namespace: j.spec.fingerprint for j in jobs}
            )
            self.jobs.append(combine)
            self._inspect([combine], settings)
            clear_partial_record(rest, catalog)
            if not combine.skipped:
                submit([combine])
            print_summary(self.jobs, settings)
            if combine.outcome == "failed":
                raise ProcessingJobsFailed(
                    f"The combine job failed ({combine.reason}); every namespace's outputs "
                    "are kept. Fix the cause and rerun the same command: completed "
                    "namespaces are skipped and only the combine job runs."
                )
            return
        print_summary(jobs, settings)
        if failed:
            command = rerun_command(context.argv, [j.spec.namespace for j in failed])
            # Plain print: a log handler or traceback renderer would wrap the command.
            print(f"RERUN (failed namespaces only): {command}", flush=True)
        if failed and settings.allow_partial and len(failed) == len(jobs):
            raise ProcessingJobsFailed(
                f"Every job failed ({', '.join(j.spec.namespace for j in failed)}): "
                "nothing to combine, even with allow_partial=true. Rerun with:\n  "
                f"{command}"
            )
        if failed and not settings.allow_partial:
            raise ProcessingJobsFailed(
                f"{len(failed)} of {len(jobs)} job(s) failed "
                f"({', '.join(j.spec.namespace for j in failed)}); the other namespaces' "
                f"outputs are kept and the non-namespaced nodes did not run. Rerun only the "
                f"failed ones with:\n  {command}\nthen the same command without --namespaces "
                "to combine (completed namespaces are skipped)."
            )
        if rest.nodes:
            if failed:
                if combine_spec is not None:
                    logger.warning(
                        "combine=job with allow_partial=true and failed namespaces: the "
                        "partial combine runs in the driver."
                    )
                rest = partial_pipeline(rest, failed, catalog)
            else:
                clear_partial_record(rest, catalog)
            super()._run(rest, catalog, hook_manager, run_id)

    def _submitter(self, *, settings, context, package, artefacts, forwarded):
        """Schedules batches of jobs; uploads the code and makes the backend once."""
        made: dict[str, Any] = {}

        def submit(batch: list[JobRun]) -> None:
            if not made:
                settings.validate_for_submission()
                made["code_uri"] = upload_artefacts(artefacts, settings, context)
                made["backend"] = make_backend(settings, self._boto_session)
            self._schedule(
                batch,
                made["backend"],
                settings=settings,
                package=package,
                code_uri=made["code_uri"],
                artefacts=artefacts,
                forwarded=forwarded,
            )

        return submit

    # ------------------------------------------------------------- planning
    def _inspect(self, jobs: list[JobRun], settings: ProcessingSettings):
        seen = []
        for job in jobs:
            found = markers.read_marker(job.spec.output_uri, job.spec.marker_name)
            if found:
                seen.append(found)
            if markers.is_complete(found, job.spec.fingerprint) and not settings.force:
                job.skipped, job.outcome = True, "skipped"
                job.reason = "complete (same code and config)"
            for item in job.spec.inputs:
                listing = storage.list_prefix(item.uri)
                job.records += listing.entries
                job.input_bytes += listing.bytes
        rates = pricing.measured_rates(seen)
        for job in jobs:
            job.estimate_s = estimate_seconds(job.input_bytes, settings, rates)
            job.spec = _with(job.spec, volume_size_gb=self._volume(job, settings))
        return rates

    @staticmethod
    def _volume(job: JobRun, settings: ProcessingSettings) -> int:
        """The job's volume: the setting, or sized from its inputs when it is null."""
        needed = volume_for(job.input_bytes)
        if settings.volume_size_gb is None:
            return needed
        if settings.volume_size_gb * 1e9 < job.input_bytes:
            raise SettingsError(
                f"volume_size_gb={settings.volume_size_gb} cannot hold the "
                f"{job.input_bytes / 1e9:.1f} GB that {job.spec.namespace}'s job copies to its "
                f"volume (File mode): set volume_size_gb to at least {needed} or to null "
                "(sized per job) in conf/aws/processing.yml or --runner-params."
            )
        return settings.volume_size_gb

    # ----------------------------------------------------------- scheduling
    def _schedule(
        self, jobs, backend: Backend, *, settings, package, code_uri, artefacts, forwarded
    ):
        throttle = AdaptiveThrottle()
        pending: deque[JobRun] = deque(jobs)
        running: list[JobRun] = []
        interval = settings.poll_initial_s
        live = _live(settings)
        try:
            with live as display:
                while pending or running:
                    while pending and len(running) < settings.max_concurrent_jobs:
                        job = pending.popleft()
                        self._submit(
                            job,
                            backend,
                            throttle,
                            settings=settings,
                            package=package,
                            code_uri=code_uri,
                            artefacts=artefacts,
                            forwarded=forwarded,
                        )
                        if job.outcome == "running":
                            running.append(job)
                    display.update(status_table(self.jobs))
                    if not running:
                        continue
                    time.sleep(interval)
                    changed = False
                    for job in list(running):
                        state = throttle.call(backend.describe, job.name)
                        if state is None:
                            continue
                        changed |= job.state is None or state.status != job.state.status
                        job.state = state
                        if state.status in TERMINAL:
                            running.remove(job)
                            self._finish(job, settings)
                    # Back off while nothing changes; look again soon after a change.
                    interval = (
                        settings.poll_initial_s
                        if changed
                        else min(interval * 1.5, settings.poll_max_s)
                    )
                    display.update(status_table(self.jobs))
        except KeyboardInterrupt:
            # Every job this run created and has not seen end, including one whose
            # create call was interrupted (it may have reached the service) and one
            # created but not yet tracked as running; never a job it merely follows.
            mine = [j for j in jobs if j.created and j.outcome in ("pending", "running")]
            logger.warning("Interrupted: stopping %d job(s) this run started.", len(mine))
            for job in mine:
                try:
                    throttle.call(backend.stop, job.name)
                    job.outcome, job.reason = "failed", "stopped (Ctrl-C)"
                except Exception as exc:
                    logger.error("Could not stop %s: %s", job.name, exc)
            raise

    def _submit(self, job, backend, throttle, *, settings, package, code_uri, artefacts, forwarded):
        spec = job.spec
        for attempt in range(1, MAX_ATTEMPTS + 1):
            name = job_name(settings.job_name_prefix, spec.namespace, spec.fingerprint, attempt)
            state = throttle.call(backend.describe, name)
            if state is None:
                request = build_request(
                    spec,
                    settings,
                    name=name,
                    package=package,
                    code_uri=code_uri,
                    wheel=artefacts.wheel_name,
                    conf_archive=artefacts.conf_name,
                    environment={**forwarded, "WAVESHARD_INSTANCE_TYPE": settings.instance_type},
                )
                self.requests.append(request)
                # Set before the call: Ctrl-C during it may come after the service
                # accepted the job, which must then be stopped too.
                job.name, job.created = name, True
                try:
                    throttle.call(backend.create, request)
                except Exception:
                    job.created = False
                    raise
                break
            if state.status in ("InProgress", "Stopping") or (
                state.status == "Completed" and not settings.force
            ):
                logger.info(
                    "Job %s exists (%s): following it instead of creating a new one.",
                    name,
                    state.status,
                )
                job.state = state
                break
        else:
            job.outcome, job.reason = "failed", f"{MAX_ATTEMPTS} attempts failed already"
            return
        job.name = name
        job.log_link = backend.log_link(name)
        job.outcome = "running"
        job.submitted_at = time.time()
        logger.info("%s: job %s; logs: %s", spec.namespace, name, job.log_link)
        if job.state is not None and job.state.status in TERMINAL:
            job.outcome = "done-before"
            self._finish(job, settings)

    def _finish(self, job: JobRun, settings: ProcessingSettings) -> None:
        from waveshard.runners.local_backend import elapsed

        state = job.state
        job.instance_seconds = elapsed(state) * settings.instance_count
        if state.status == "Completed":
            found = markers.read_marker(job.spec.output_uri, job.spec.marker_name)
            if markers.is_complete(found, job.spec.fingerprint):
                job.outcome, job.reason = "completed", ""
            else:
                job.outcome = "failed"
                job.reason = (
                    f"job Completed but wrote no completion marker "
                    f"{storage.join(job.spec.output_uri, job.spec.marker_name)}"
                )
        else:
            job.outcome = "failed"
            job.reason = state.exit_message or state.failure_reason or state.status
        log = logger.info if job.outcome == "completed" else logger.error
        log("%s: %s %s %s", job.spec.namespace, job.name, job.outcome, job.reason)


def _with(spec: JobSpec, **changes) -> JobSpec:
    import dataclasses

    return dataclasses.replace(spec, **changes)


# ---------------------------------------------------------------- settings
def load_settings(context: RunContext, overrides: dict[str, Any]) -> ProcessingSettings:
    """``processing.yml`` of the run's environment, then the runner parameters."""
    from waveshard import config

    from_yaml = config.read("processing", env=context.env, conf_source=context.conf_source)
    prices = config.read("prices", env=context.env, conf_source=context.conf_source)
    yaml_prices = from_yaml.pop("prices", None) or {}
    return ProcessingSettings.from_sources(
        from_yaml, {"prices": {**prices.get("prices", {}), **yaml_prices}}, overrides
    )


# --------------------------------------------------------------- planning
def split_by_namespace(pipeline: Pipeline) -> tuple[dict[str, Pipeline], Pipeline]:
    """Top-level namespace → its nodes, and the nodes outside every namespace.

    Raises:
        SettingsError: A namespaced node needs the output of a non-namespaced node
            (namespaces run first, in their own jobs).
    """
    by_ns: dict[str, list] = {}
    rest = []
    for node in pipeline.nodes:
        if node.namespace:
            by_ns.setdefault(node.namespace.split(".")[0], []).append(node)
        else:
            rest.append(node)
    groups = {ns: Pipeline(nodes) for ns, nodes in sorted(by_ns.items())}
    rest_pipe = Pipeline(rest)
    rest_outputs = rest_pipe.all_outputs()
    for ns, sub in groups.items():
        needs = sub.inputs() & rest_outputs
        if needs:
            raise SettingsError(
                f"Namespace {ns} reads {sorted(needs)}, written by nodes outside any "
                "namespace; jobs run before those nodes. Move the producing nodes into "
                f"{ns} or run without ProcessingJobRunner."
            )
        for other, other_sub in groups.items():
            if other != ns and sub.inputs() & other_sub.all_outputs():
                raise SettingsError(
                    f"Namespace {ns} reads {sorted(sub.inputs() & other_sub.all_outputs())} "
                    f"from namespace {other}; jobs of different namespaces cannot depend "
                    "on each other."
                )
    return groups, rest_pipe


def dataset_location(catalog, name: str) -> str | None:
    """Storage location of a dataset (``filepath``/``path`` of its config), or None."""
    config = catalog.config_resolver.config.get(name)
    if config is None:
        config = catalog.config_resolver.resolve_pattern(name)
    if not config or "MemoryDataset" in str(config.get("type", "")):
        return None
    location = config.get("filepath") or config.get("path")
    return None if location is None else str(location)


def _common_folder(paths: list[str]) -> str:
    folders = [p.rsplit("/", 1)[0] for p in paths]
    common = posixpath.commonpath([f.replace("://", ":/") for f in folders]).replace(":/", "://", 1)
    return common


def plan_jobs(groups, rest: Pipeline, catalog, context: RunContext, settings) -> list[JobSpec]:
    """One :class:`JobSpec` per namespace, checked against the container catalog."""
    specs = []
    container = container_catalog(context, settings)
    for ns, sub in groups.items():
        inputs = []
        for name in sorted(sub.inputs()):
            if name == "parameters" or name.startswith("params:"):
                continue
            location = dataset_location(catalog, name)
            if location is None:
                raise SettingsError(
                    f"Input {name} of namespace {ns} has no storage location in the "
                    f"{context.env or 'local'} catalog; a job can only read persisted "
                    "datasets (declare it with a filepath/path)."
                )
            channel = name[len(ns) + 1 :] if name.startswith(f"{ns}.") else name
            inputs.append(JobInput(dataset=name, channel=channel.replace(".", "-"), uri=location))
        persisted = {}
        for name in sorted(sub.all_outputs()):
            location = dataset_location(catalog, name)
            if location is not None:
                persisted[name] = location
            elif name in rest.inputs():
                raise SettingsError(
                    f"{name} is written in namespace {ns}'s job and read by a driver node, "
                    "but it is not persisted: give it a filepath in the catalog."
                )
        if not persisted:
            raise SettingsError(f"Namespace {ns} writes no persisted dataset; nothing to keep.")
        output_uri = _common_folder(list(persisted.values()))
        outputs = {n: loc[len(output_uri) + 1 :] for n, loc in persisted.items()}
        spec = JobSpec(
            namespace=ns,
            nodes=tuple(n.name for n in sub.nodes),
            inputs=tuple(inputs),
            output_uri=output_uri,
            outputs=outputs,
            params=dict(context.runtime_params),
        )
        check_container_paths(spec, container, settings)
        specs.append(spec)
    return specs


#: Pseudo-namespace of the combine job (job name, marker, ExitMessage) and the
#: runtime parameter telling the container catalog which job it runs in.
COMBINE_JOB = "combine"
JOB_KIND_PARAM = "waveshard_job"
#: Input channel of the combine job: the common parent of the group output prefixes.
COMBINE_CHANNEL = "groups"


def plan_combine_job(
    rest: Pipeline, specs: list[JobSpec], catalog, context: RunContext, settings
) -> JobSpec:
    """The job running the non-namespaced nodes (``combine=job``).

    Its one input is the common parent of the output prefixes of the groups it
    reads, staged at ``<input>/groups`` with the relative layout kept (one channel
    whatever the number of groups: a job takes at most 10 inputs); its output
    prefix is the common folder of the nodes' persisted outputs. The container
    catalog is resolved with ``waveshard_job=combine`` and checked against both.
    """
    if any(s.namespace == COMBINE_JOB for s in specs):
        raise SettingsError(
            f"combine=job needs the job name {COMBINE_JOB!r}, which is also a namespace; "
            "use combine=driver."
        )
    producer = {name: spec for spec in specs for name in spec.outputs}
    read: dict[str, str] = {}
    for name in sorted(rest.inputs()):
        if name == "parameters" or name.startswith("params:"):
            continue
        if name not in producer:
            raise SettingsError(
                f"combine=job: the non-namespaced nodes read {name}, which no namespace's "
                "job writes; the combine job can only read the groups' outputs. Use "
                "combine=driver."
            )
        read[name] = dataset_location(catalog, name) or ""
    if not read:
        raise SettingsError("combine=job: the non-namespaced nodes read no group output.")
    root = _common_folder(sorted({producer[n].output_uri for n in read}))
    inputs = {
        name: f"{INPUT_ROOT}/{COMBINE_CHANNEL}/{location[len(root) + 1 :]}"
        for name, location in read.items()
    }
    persisted = {}
    for name in sorted(rest.all_outputs()):
        location = dataset_location(catalog, name)
        if location is not None:
            persisted[name] = location
    if not persisted:
        raise SettingsError("combine=job: the non-namespaced nodes write no persisted dataset.")
    output_uri = _common_folder(list(persisted.values()))
    params = {**context.runtime_params, JOB_KIND_PARAM: COMBINE_JOB}
    spec = JobSpec(
        namespace=COMBINE_JOB,
        nodes=tuple(n.name for n in rest.nodes),
        inputs=(JobInput(dataset=COMBINE_CHANNEL, channel=COMBINE_CHANNEL, uri=root),),
        output_uri=output_uri,
        outputs={n: loc[len(output_uri) + 1 :] for n, loc in persisted.items()},
        params=params,
    )
    check_container_paths(spec, container_catalog(context, settings, params), settings, inputs)
    return spec


def container_catalog(
    context: RunContext, settings: ProcessingSettings, params: dict[str, Any] | None = None
):
    """Config resolver of the container environment, with /opt/ml/processing as root.

    Args:
        params: Runtime parameters of the job (default: the run's).
    """
    from kedro.io.catalog_config_resolver import CatalogConfigResolver

    from waveshard import config

    env_dir = context.conf_source / settings.container_env
    if not env_dir.is_dir():
        raise SettingsError(
            f"Container environment conf/{settings.container_env} not found: create it "
            "(see docs/sagemaker.md) or set container_env in processing.yml."
        )
    catalog = config.read(
        "catalog",
        env=settings.container_env,
        conf_source=context.conf_source,
        runtime_params={
            **(context.runtime_params if params is None else params),
            "processing_root": PROCESSING_ROOT,
        },
    )
    return CatalogConfigResolver(catalog)


def check_container_paths(
    spec: JobSpec, resolver, settings, inputs: dict[str, str] | None = None
) -> None:
    """Each input/output must sit where the job stages/uploads it in the container.

    Args:
        inputs: Dataset → container path of its input (default: one channel per
            input dataset, at the channel's folder).
    """

    def where(name: str) -> str | None:
        config = resolver.config.get(name) or resolver.resolve_pattern(name)
        value = config.get("filepath") or config.get("path")
        return None if value is None else str(value).rstrip("/")

    expected = (
        dict(inputs) if inputs is not None else {i.dataset: i.local_path for i in spec.inputs}
    )
    expected.update({n: f"{OUTPUT_ROOT}/{rel}" for n, rel in spec.outputs.items()})
    for name, path in expected.items():
        actual = where(name)
        if actual != path:
            staged = "; ".join(f"{i.uri} → {i.local_path}" for i in spec.inputs)
            raise SettingsError(
                f"In conf/{settings.container_env}/catalog.yml, {name} must be at {path} "
                f"in {spec.namespace}'s job (it stages {staged or 'no input'} and uploads "
                f"{OUTPUT_ROOT} to {spec.output_uri}), but it resolves to {actual}."
            )


def estimate_seconds(nbytes: int, settings: ProcessingSettings, rates) -> float:
    rate = rates.get(settings.instance_type)
    per_s = rate.bytes_per_s if rate else settings.throughput_mb_s * 1e6
    return settings.startup_s + nbytes / max(per_s, 1.0)


# --------------------------------------------------------------- artefacts
def build_artefacts(context: RunContext, package: str, settings: ProcessingSettings):
    import tomllib

    from waveshard.runners.packaging import Artefacts, build_conf_archive, build_wheel

    pyproject = tomllib.loads((context.project_path / "pyproject.toml").read_text())
    version = pyproject.get("project", {}).get("version", "0.0.0")
    source_dir = context.project_path / pyproject.get("tool", {}).get("kedro", {}).get(
        "source_dir", "src"
    )
    wheel_name, wheel = build_wheel(source_dir, package, version)
    conf_name, conf = build_conf_archive(
        context.conf_source, ["base", settings.container_env], package
    )
    return Artefacts(wheel_name, wheel, conf_name, conf)


def upload_artefacts(artefacts, settings: ProcessingSettings, context: RunContext) -> str:
    """Upload wheel and conf once per content hash; return their prefix."""
    base = settings.code_uri
    if not base:
        base = str(Path(settings.local_work_dir or _default_work_dir()) / "code")
    uri = storage.join(base, artefacts.digest[:16])
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (
            (artefacts.wheel_name, artefacts.wheel),
            (artefacts.conf_name, artefacts.conf),
        ):
            target = storage.join(uri, name)
            if not storage.exists(target):
                path = Path(tmp) / name
                path.write_bytes(data)
                storage.put_file(path, target)
    logger.info("Project code and conf at %s", uri)
    return uri


def _default_work_dir() -> str:
    return os.path.join(tempfile.gettempdir(), "waveshard-jobs")


def make_backend(settings: ProcessingSettings, boto_session=None) -> Backend:
    if settings.backend == "local":
        from waveshard.runners.local_backend import LocalBackend

        image = None
        if settings.isolation == "image":
            from kedro.utils import find_kedro_project

            from waveshard.runners.image_jobs import ImageJobs

            project = find_kedro_project(Path.cwd()) or Path.cwd()
            image = ImageJobs.open(settings.image_root, Path(project))
        return LocalBackend(
            work_dir=Path(settings.local_work_dir or _default_work_dir()), image=image
        )
    from waveshard.runners.sagemaker_backend import SageMakerBackend

    return SageMakerBackend(region=settings.region, boto_session=boto_session)


# ---------------------------------------------------------------- partial
def partial_pipeline(rest: Pipeline, failed: list[JobRun], catalog) -> Pipeline:
    """The driver nodes without the failed namespaces' datasets (allow_partial=true).

    Works for nodes that take their inputs as ``*args`` (e.g. a concatenation);
    what is missing is logged and saved next to the first driver output.
    """
    import json

    missing = {n for j in failed for n in j.spec.outputs}
    nodes = []
    for node in rest.nodes:
        kept = [i for i in node.inputs if i not in missing]
        if len(kept) == len(node.inputs):
            nodes.append(node)
            continue
        if isinstance(getattr(node, "_inputs", None), dict):
            raise ProcessingJobsFailed(
                f"allow_partial=true cannot drop {sorted(set(node.inputs) - set(kept))} from "
                f"node {node.name}: it takes named inputs; only nodes taking *args can "
                "combine without some namespaces."
            )
        # Same node (outputs' shape, tags, confirms) minus the missing inputs.
        nodes.append(node._copy(inputs=kept))
    record = {
        "missing_namespaces": sorted(j.spec.namespace for j in failed),
        "missing_datasets": sorted(missing),
        "reasons": {j.spec.namespace: j.reason for j in failed},
    }
    logger.warning("allow_partial=true: combining without %s", record["missing_namespaces"])
    target = partial_record_uri(rest, catalog)
    if target:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "partial.json"
            path.write_text(json.dumps(record, indent=2))
            storage.put_file(path, target)
        logger.warning("What is missing is recorded in %s", target)
    return Pipeline(nodes)


PARTIAL_RECORD = "_waveshard_partial.json"


def partial_record_uri(rest: Pipeline, catalog) -> str | None:
    """Where a partial combine records what is missing: next to the first driver output."""
    outputs = [dataset_location(catalog, n) for n in sorted(rest.outputs())]
    outputs = [o for o in outputs if o]
    return storage.join(outputs[0].rsplit("/", 1)[0], PARTIAL_RECORD) if outputs else None


def clear_partial_record(rest: Pipeline, catalog) -> None:
    """A complete combine replaces a partial one: drop the stale record of what was missing."""
    target = partial_record_uri(rest, catalog)
    if target and storage.exists(target):
        storage.delete(target)
        logger.info("Every namespace is combined: removed %s.", target)


# ----------------------------------------------------------------- output
def rerun_command(argv: list[str], namespaces: list[str]) -> str:
    """The run's own command line with ``--namespaces`` set to ``namespaces``."""
    args = list(argv[1:])
    program = "kedro" if not argv or Path(argv[0]).name in ("kedro", "__main__.py") else argv[0]
    cleaned: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("--namespaces", "-ns"):
            skip = True
            continue
        if arg.startswith("--namespaces="):
            continue
        cleaned.append(arg)
    return shlex.join([program, *cleaned, "--namespaces", ",".join(namespaces)])


def _live(settings: ProcessingSettings):
    from contextlib import nullcontext

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
            from waveshard.runners.local_backend import elapsed

            took = pricing.format_seconds(elapsed(state)) if state else ""
        table.add_row(
            job.spec.namespace,
            job.name,
            status,
            took,
            str(job.records),
            pricing.format_bytes(job.input_bytes),
        )
    return table


def _print(renderable) -> None:
    from rich.console import Console

    Console(width=160).print(renderable)


def print_plan(jobs: list[JobRun], settings: ProcessingSettings, rates) -> None:
    """The dry-run plan: per namespace records, bytes, instance, runtime and cost; totals."""
    from rich.table import Table

    rate = rates.get(settings.instance_type)
    source = rate.source if rate else f"configured throughput_mb_s={settings.throughput_mb_s}"
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
        seconds = 0.0 if job.skipped else job.estimate_s * settings.instance_count
        value = pricing.cost(settings.prices, settings.instance_type, seconds)
        total_s += seconds
        total_cost += value or 0.0
        total_bytes += job.input_bytes
        total_records += job.records
        table.add_row(
            job.spec.namespace,
            "skip (complete)"
            if job.skipped
            else "run (est. > max_runtime_s!)"
            if job.estimate_s > settings.max_runtime_s
            else "run",
            str(job.records),
            pricing.format_bytes(job.input_bytes),
            f"{settings.instance_count} × {settings.instance_type}, "
            f"{job.spec.volume_size_gb or settings.volume_size_gb} GB",
            "-" if job.skipped else pricing.format_seconds(job.estimate_s),
            "-" if job.skipped else pricing.format_cost(value),
        )
    table.add_row(
        "TOTAL",
        f"{sum(not j.skipped for j in jobs)} job(s)",
        str(total_records),
        pricing.format_bytes(total_bytes),
        "",
        f"{pricing.format_seconds(total_s)} instance-time",
        pricing.format_cost(total_cost),
    )
    _print(table)
    _print(
        f"Runtime estimate: {settings.startup_s:.0f} s start-up + bytes at {source}; "
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
            job.spec.namespace,
            job.name or "-",
            job.outcome,
            f"{job.instance_seconds:.0f}",
            pricing.format_cost(
                pricing.cost(settings.prices, settings.instance_type, job.instance_seconds)
            ),
            job.reason or job.log_link,
        )
    _print(table)
    estimate = pricing.cost(settings.prices, settings.instance_type, total)
    _print(
        f"Total: {total:.0f} instance-seconds, estimated cost "
        f"{pricing.format_cost(estimate)} ({settings.instance_type}, backend="
        f"{settings.backend})."
    )

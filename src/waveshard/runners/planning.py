"""Pure planning: which jobs a pipeline makes, what each reads and writes.

Nothing here talks to a backend or uploads anything: given the pipeline, the
driver's catalog and the container environment's catalog, it returns one
:class:`~waveshard.runners.job_spec.JobSpec` per namespace (and the combine job's),
or a :class:`~waveshard.runners.settings.SettingsError` naming what to fix.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable
from typing import Any

from kedro.pipeline import Pipeline

from waveshard.runners.context import RunContext
from waveshard.runners.job_spec import (
    ENTRIES_FILE,
    INPUT_ROOT,
    JOB_DIR,
    OUTPUT_ROOT,
    PROCESSING_ROOT,
    STREAM_PARAM,
    JobInput,
    JobSpec,
    volume_for,
)
from waveshard.runners.partitions import Inventory, split
from waveshard.runners.settings import ProcessingSettings, SettingsError
from waveshard.uris import is_s3

#: Folder of a partition's outputs under its namespace's output prefix.
PARTS_FOLDER = "parts"

#: Pseudo-namespace of the combine job (job name, marker, ExitMessage) and the
#: runtime parameter telling the container catalog which job it runs in.
COMBINE_JOB = "combine"
JOB_KIND_PARAM = "waveshard_job"
#: Input channel of the combine job: the common parent of the group output prefixes.
COMBINE_CHANNEL = "groups"


def split_by_namespace(pipeline: Pipeline) -> tuple[dict[str, Pipeline], Pipeline]:
    """Top-level namespace → its nodes, and the nodes outside every namespace.

    Uses Kedro's own grouping (``Pipeline.group_nodes_by("namespace")``): each group
    names the groups it depends on, namespaces by their name and nodes outside any
    namespace by the node's name.

    Raises:
        SettingsError: A namespace needs the output of a non-namespaced node or of
            another namespace (namespaces run first, each in its own job).
    """
    groups = pipeline.group_nodes_by("namespace")
    kinds = {g.name: g.type for g in groups}
    namespaces: dict[str, Pipeline] = {}
    rest: list[str] = []
    for group in groups:
        if group.type != "namespace":
            rest.extend(group.nodes)
            continue
        for dependency in group.dependencies:
            if kinds.get(dependency) == "namespace":
                raise SettingsError(
                    f"Namespace {group.name} reads outputs of namespace {dependency}; jobs of "
                    "different namespaces cannot depend on each other."
                )
            raise SettingsError(
                f"Namespace {group.name} reads the output of node {dependency}, which is "
                "outside any namespace; jobs run before those nodes. Move the producing "
                f"node into {group.name} or run without ProcessingJobRunner."
            )
        namespaces[group.name] = pipeline.only_nodes(*group.nodes)
    driver = pipeline.only_nodes(*rest) if rest else Pipeline([])
    return dict(sorted(namespaces.items())), driver


def dataset_location(catalog, name: str) -> str | None:
    """Storage location of a dataset (``filepath``/``path`` of its config), or None."""
    config = catalog.config_resolver.config.get(name)
    if config is None:
        config = catalog.config_resolver.resolve_pattern(name)
    if not config or "MemoryDataset" in str(config.get("type", "")):
        return None
    location = config.get("filepath") or config.get("path")
    return None if location is None else str(location)


def common_folder(paths: list[str]) -> str:
    """The deepest folder holding every path (URLs keep their ``scheme://``)."""
    folders = [p.rsplit("/", 1)[0] for p in paths]
    return posixpath.commonpath([f.replace("://", ":/") for f in folders]).replace(":/", "://", 1)


#: Folder under the run's root holding what the runner ships: code, job files.
WORK_FOLDER = "_waveshard"


def run_root(pipeline: Pipeline, catalog) -> str:
    """Where this run writes: the ``output_root`` parameter if the project has one,
    else the common folder of every dataset the pipeline persists.

    The code and the job files go under it (``<root>/_waveshard/``), so a run
    pointed at another bucket with ``--params output_root=...`` needs nothing of
    the default bucket.
    """
    try:
        value = catalog.load("params:output_root")
    except Exception:  # a project without the parameter
        value = None
    if value:
        return str(value).rstrip("/")
    locations = [dataset_location(catalog, n) for n in sorted(pipeline.all_outputs())]
    locations = [loc for loc in locations if loc]
    if not locations:
        raise SettingsError(
            "The pipeline persists no dataset, so the runner has nowhere to put the jobs' "
            "code: set code_uri."
        )
    return common_folder(locations)


def input_mode(settings: ProcessingSettings, uris: list[str]) -> str:
    """How the jobs read their inputs: the setting, else ``stream`` when all are on S3.

    A plan from a listing stands for a bucket: there, inputs count as on S3.

    Raises:
        SettingsError: SageMaker jobs can only read inputs on S3.
    """
    on_s3 = settings.listing is not None or all(is_s3(u) for u in uris)
    if settings.backend == "sagemaker" and not on_s3:
        local = next(u for u in uris if not is_s3(u))
        raise SettingsError(
            f"SageMaker jobs read their inputs from S3, but {local} is not on S3: run with "
            "--env aws (or raw_root=s3://...), or use backend=local."
        )
    return settings.input_mode or ("stream" if on_s3 else "file")


def plan_jobs(
    namespaces: dict[str, Pipeline],
    rest: Pipeline,
    catalog,
    context: RunContext,
    settings: ProcessingSettings,
    *,
    inventory: Callable[[str], Inventory],
) -> list[JobSpec]:
    """The jobs of every namespace, checked against the container catalog.

    A namespace is one job, or with ``max_partition_gb`` one job per partition of
    its one input (:func:`~waveshard.runners.partitions.split`); each partition
    writes below ``<namespace's output prefix>/parts/<part-NNNN>/``.

    Args:
        inventory: What an input prefix holds (listed, or from a listing file).
    """
    specs = []
    container = container_catalog(context, settings)
    planned: list[tuple[str, list[JobInput], str, dict[str, str]]] = []
    for ns, sub in namespaces.items():
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
        output_uri = common_folder(list(persisted.values()))
        outputs = {n: loc[len(output_uri) + 1 :] for n, loc in persisted.items()}
        planned.append((ns, inputs, output_uri, outputs))
    mode = input_mode(settings, [i.uri for _, inputs, _, _ in planned for i in inputs])
    max_bytes = settings.max_partition_gb * 1e9 if settings.max_partition_gb else None
    for ns, found, output_uri, outputs in planned:
        inputs = [dataclasses.replace(i, mode=mode) for i in found]
        if len(inputs) == 1:
            partitions = split(inventory(inputs[0].uri), max_bytes)
        elif max_bytes is not None and len(inputs) > 1:
            raise SettingsError(
                f"max_partition_gb splits a namespace's one input, but {ns} reads "
                f"{len(inputs)}: set max_partition_gb to null."
            )
        else:
            partitions = [None]
        group = []
        for partition in partitions:
            split_up = partition is not None and partition.count > 1
            params = dict(context.runtime_params)
            streamed = {
                i.channel: {
                    "uri": i.uri,
                    **({"entries": f"{JOB_DIR}/{ENTRIES_FILE}"} if split_up else {}),
                }
                for i in inputs
                if i.mode == "stream"
            }
            if streamed:
                params[STREAM_PARAM] = streamed
            group.append(
                JobSpec(
                    namespace=ns,
                    nodes=tuple(n.name for n in namespaces[ns].nodes),
                    inputs=tuple(inputs),
                    output_uri=(
                        f"{output_uri}/{PARTS_FOLDER}/{partition.label}" if split_up else output_uri
                    ),
                    outputs=outputs,
                    params=params,
                    partition=partition,
                )
            )
        # Every partition of a namespace resolves the same way; check one.
        check_container_paths(
            group[0],
            container_catalog(context, settings, group[0].params)
            if group[0].params != context.runtime_params
            else container,
            settings,
        )
        specs.extend(group)
    return specs


def parts_layout(specs: list[JobSpec]) -> dict[str, dict[str, Any]]:
    """Dataset → where its parts are, for every output of a namespace split into partitions.

    Each entry holds the dataset's path relative to its namespace's output prefix
    (``relative``) and the folders of its parts below that prefix (``parts``), so a
    reader can find them from wherever it sees the namespace's whole-file location.
    """
    layout: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if not spec.split:
            continue
        for name, relative in spec.outputs.items():
            entry = layout.setdefault(name, {"relative": relative, "parts": []})
            entry["parts"].append(f"{PARTS_FOLDER}/{spec.partition.label}")
    return layout


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
    producers: dict[str, list[JobSpec]] = {}
    for spec in specs:
        for name in spec.outputs:
            producers.setdefault(name, []).append(spec)
    read: dict[str, str] = {}
    for name in sorted(rest.inputs()):
        if name == "parameters" or name.startswith("params:"):
            continue
        if name not in producers:
            raise SettingsError(
                f"combine=job: the non-namespaced nodes read {name}, which no namespace's "
                "job writes; the combine job can only read the groups' outputs. Use "
                "combine=driver."
            )
        read[name] = dataset_location(catalog, name) or ""
    if not read:
        raise SettingsError("combine=job: the non-namespaced nodes read no group output.")
    root = common_folder(sorted({p.output_uri for n in read for p in producers[n]}))
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
    output_uri = common_folder(list(persisted.values()))
    params = {**context.runtime_params, JOB_KIND_PARAM: COMBINE_JOB}
    spec = JobSpec(
        namespace=COMBINE_JOB,
        nodes=tuple(n.name for n in rest.nodes),
        inputs=(JobInput(dataset=COMBINE_CHANNEL, channel=COMBINE_CHANNEL, uri=root),),
        output_uri=output_uri,
        outputs={n: loc[len(output_uri) + 1 :] for n, loc in persisted.items()},
        params=params,
        parts={n: p for n, p in parts_layout(specs).items() if n in read},
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
    # The runtime pattern Kedro uses by default; given, so that it says nothing about it.
    return CatalogConfigResolver(
        catalog, default_runtime_patterns={"{default}": {"type": "kedro.io.MemoryDataset"}}
    )


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
        dict(inputs)
        if inputs is not None
        else {
            i.dataset: i.uri.rstrip("/") if i.mode == "stream" else i.local_path
            for i in spec.inputs
        }
    )
    expected.update({n: f"{OUTPUT_ROOT}/{rel}" for n, rel in spec.outputs.items()})
    for name, path in expected.items():
        actual = where(name)
        if actual != path:
            staged = "; ".join(
                f"{i.uri} → {i.uri if i.mode == 'stream' else i.local_path} ({i.mode})"
                for i in spec.inputs
            )
            raise SettingsError(
                f"In conf/{settings.container_env}/catalog.yml, {name} must be at {path} "
                f"in {spec.namespace}'s job (it reads {staged or 'no input'} and uploads "
                f"{OUTPUT_ROOT} to {spec.output_uri}), but it resolves to {actual}."
            )


def volume_size(input_bytes: int, namespace: str, settings: ProcessingSettings) -> int:
    """A job's volume: the setting, or sized from its inputs when it is null.

    Raises:
        SettingsError: The setting cannot hold what the job copies to its volume.
    """
    needed = volume_for(input_bytes)
    if settings.volume_size_gb is None:
        return needed
    if settings.volume_size_gb * 1e9 < input_bytes:
        raise SettingsError(
            f"volume_size_gb={settings.volume_size_gb} cannot hold the "
            f"{input_bytes / 1e9:.1f} GB that {namespace}'s job copies to its "
            f"volume (File mode): set volume_size_gb to at least {needed} or to null "
            "(sized per job) in conf/aws/processing.yml or --runner-params."
        )
    return settings.volume_size_gb

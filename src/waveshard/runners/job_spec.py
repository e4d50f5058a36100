"""The shape of one Processing job request, in one place.

Both backends consume exactly what :func:`build_request` returns (the
``CreateProcessingJob`` request in the API's own PascalCase form): the SageMaker
backend validates it with sagemaker-core's shapes and sends it, the local
backend executes it on this machine with ``/opt/ml`` mapped to a job folder.

What a job runs (its nodes, runtime parameters, record list, manifest) travels as
small files of the ``job`` input channel (:func:`job_files`), not as container
arguments or environment values, which SageMaker limits to 256 characters each.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from waveshard.runners.entrypoint import TELEMETRY_OFF
from waveshard.runners.partitions import Partition
from waveshard.runners.settings import ProcessingSettings

#: Root of everything SageMaker mounts into a Processing container.
OPT_ML = "/opt/ml"
PROCESSING_ROOT = f"{OPT_ML}/processing"
INPUT_ROOT = f"{PROCESSING_ROOT}/input"
OUTPUT_ROOT = f"{PROCESSING_ROOT}/output"
#: Written by the container on failure; SageMaker shows it as the job's ExitMessage.
MESSAGE_FILE = f"{OPT_ML}/output/message"
#: Input channel holding the project's wheel and conf archive.
CODE_CHANNEL = "code"
CODE_DIR = f"{INPUT_ROOT}/{CODE_CHANNEL}"
#: Input channel holding the job's own files: job.json, its record list, its manifest.
JOB_CHANNEL = "job"
JOB_DIR = f"{INPUT_ROOT}/{JOB_CHANNEL}"
JOB_FILE = "job.json"
ENTRIES_FILE = "entries.txt"
MANIFEST_FILE = "manifest.json"
#: Runtime parameter telling the container catalog where streamed inputs are:
#: ``waveshard_inputs.<channel>.uri`` and (a partition) ``.entries``.
STREAM_PARAM = "waveshard_inputs"
ENTRYPOINT_MODULE = "waveshard.runners.entrypoint"
#: SageMaker's limit on job names, and their pattern.
MAX_JOB_NAME = 63
#: Smallest and largest EBS volume of a Processing instance (GB).
MIN_VOLUME_GB, MAX_VOLUME_GB = 1, 16384


def volume_for(input_bytes: int) -> int:
    """Volume that holds a job's File-mode inputs (copied whole before the container
    starts) with room for the outputs: inputs + 20 % + 10 GB."""
    return min(MAX_VOLUME_GB, max(MIN_VOLUME_GB, math.ceil(input_bytes * 1.2 / 1e9) + 10))


JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@dataclass(frozen=True, kw_only=True)
class JobInput:
    """One dataset a job reads, and how it reaches the container.

    Attributes:
        dataset: Catalog name in the driver, e.g. ``group_30.raw_records``.
        channel: Input name, the dataset's name inside its namespace.
        uri: S3 prefix (or local folder for the local backend).
        mode: ``file`` (a ProcessingInput copies it onto the volume before the
            container starts) or ``stream`` (no ProcessingInput: the container
            reads ``uri`` itself, with the instance role's credentials).
    """

    dataset: str
    channel: str
    uri: str
    mode: str = "file"

    @property
    def local_path(self) -> str:
        return f"{INPUT_ROOT}/{self.channel}"


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """What one job must do: run ``nodes`` of ``namespace`` from ``inputs`` into ``output_uri``.

    Attributes:
        namespace: Kedro namespace, e.g. ``group_30``.
        nodes: Names of the nodes the job runs, in the driver's order.
        inputs: Free inputs of those nodes with a storage location.
        output_uri: Common prefix of every persisted dataset the job writes.
        outputs: Persisted dataset name → path relative to ``output_uri``.
        fingerprint: Hash of code, configuration, inputs and nodes.
        params: Runtime parameters of the container's Kedro session.
        volume_size_gb: Instance volume of this job; ``None`` uses the setting.
        partition: The part of the (one) input this job reads, when the namespace
            is split into several; ``None`` for the whole input.
        parts: For the combine job: dataset → how its parts are laid out (see
            :func:`waveshard.runners.parts.part_datasets`).
    """

    namespace: str
    nodes: tuple[str, ...]
    inputs: tuple[JobInput, ...]
    output_uri: str
    outputs: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    volume_size_gb: int | None = None
    partition: Partition | None = None
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def split(self) -> bool:
        """The job reads one of several partitions of its namespace's input."""
        return self.partition is not None and self.partition.count > 1

    @property
    def key(self) -> str:
        """The job's name in names, markers and tables: ``group_30`` or ``group_30-part-0003``."""
        return f"{self.namespace}-{self.partition.label}" if self.split else self.namespace

    @property
    def marker_name(self) -> str:
        """Completion marker file, written last under the output prefix."""
        return f"_waveshard_complete_{self.key}.json"


def job_name(prefix: str, namespace: str, fingerprint: str, attempt: int) -> str:
    """Deterministic, valid SageMaker job name: ``<prefix>-<namespace>-<fp10>-<attempt>``.

    The same code, configuration and inputs give the same name, so a re-submit
    finds the job it already created (describe-before-create) instead of paying
    twice; ``attempt`` grows only when an earlier attempt failed or ``force`` is set.

    Args:
        prefix: ``job_name_prefix`` setting.
        namespace: Kedro namespace of the job.
        fingerprint: Hex fingerprint of the job.
        attempt: 1, 2, ...

    Returns:
        A name of at most 63 characters matching ``[a-zA-Z0-9](-*[a-zA-Z0-9])*``.
    """
    clean = lambda text: re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9]", "-", text)).strip("-")  # noqa: E731
    tail = f"{fingerprint[:10]}-{attempt}"
    head = clean(prefix) or "ws"
    ns = clean(namespace) or "job"
    room = MAX_JOB_NAME - len(head) - len(tail) - 2
    if len(ns) > room:
        # Keep names unique when namespaces share a long beginning.
        digest = hashlib.sha256(namespace.encode()).hexdigest()[:6]
        ns = f"{ns[: max(room - 7, 1)].rstrip('-')}-{digest}"
    name = f"{head}-{ns}-{tail}"
    if not JOB_NAME_RE.match(name):
        raise ValueError(f"Job name {name!r} is invalid; shorten job_name_prefix={prefix!r}.")
    return name


def entrypoint_arguments(
    spec: JobSpec, *, package: str, container_env: str, conf_archive: str
) -> list[str]:
    """Arguments of :mod:`waveshard.runners.entrypoint` for ``spec`` (each short)."""
    return [
        "--package",
        package,
        "--env",
        container_env,
        "--namespace",
        spec.key,
        "--conf-source",
        f"{CODE_DIR}/{conf_archive}",
        "--processing-root",
        PROCESSING_ROOT,
        "--message-file",
        MESSAGE_FILE,
        "--marker",
        spec.marker_name,
        "--fingerprint",
        spec.fingerprint,
        "--job-file",
        f"{JOB_DIR}/{JOB_FILE}",
    ]


def job_files(spec: JobSpec, *, input_bytes: int, input_mode: str) -> dict[str, str]:
    """The files of the job's ``job`` channel, by name.

    * ``job.json``: the nodes, runtime parameters and parts layout the
      entrypoint runs with, and the planned input size (recorded in the marker);
    * ``entries.txt`` (a partition): its record list, one first-level name per
      line, read by the container catalog in stream mode;
    * ``manifest.json`` (a partition read in file mode): the ManifestFile that
      stages exactly the partition's keys.
    """
    import json

    files = {
        JOB_FILE: json.dumps(
            {
                "namespace": spec.namespace,
                "partition": spec.partition.label if spec.split else None,
                "nodes": list(spec.nodes),
                "params": spec.params,
                "parts": spec.parts,
                "input_bytes": input_bytes,
                "input_mode": input_mode,
            },
            indent=2,
            sort_keys=True,
        )
    }
    if spec.split:
        files[ENTRIES_FILE] = "".join(f"{entry}\n" for entry in spec.partition.entries)
        staged = [i for i in spec.inputs if i.mode == "file"]
        if staged:
            files[MANIFEST_FILE] = json.dumps(
                [{"prefix": _prefix(staged[0].uri)}, *spec.partition.keys], indent=0
            )
    return files


def build_request(
    spec: JobSpec,
    settings: ProcessingSettings,
    *,
    name: str,
    package: str,
    code_uri: str,
    job_uri: str,
    wheel: str,
    conf_archive: str,
    environment: dict[str, str],
) -> dict[str, Any]:
    """The ``CreateProcessingJob`` request of one job.

    Args:
        spec: What the job runs.
        settings: Instance, network, encryption and tagging settings.
        name: Job name (see :func:`job_name`).
        package: Python package of the Kedro project.
        code_uri: Prefix holding ``wheel`` and ``conf_archive``.
        job_uri: Prefix holding the job's files (:func:`job_files`).
        wheel: File name of the project wheel.
        conf_archive: File name of the conf archive.
        environment: Extra container environment (forwarded variables).

    Returns:
        The request, as the SageMaker API spells it.
    """
    inputs = [
        _s3_input(CODE_CHANNEL, code_uri, CODE_DIR),
        _s3_input(JOB_CHANNEL, job_uri, JOB_DIR),
    ]
    for item in spec.inputs:
        if item.mode == "stream":
            continue  # the container reads it from S3 itself
        if spec.split:
            manifest = f"{job_uri.rstrip('/')}/{MANIFEST_FILE}"
            inputs.append(_s3_input(item.channel, manifest, item.local_path, "ManifestFile"))
        else:
            inputs.append(_s3_input(item.channel, item.uri, item.local_path))
    cluster: dict[str, Any] = {
        "InstanceCount": settings.instance_count,
        "InstanceType": settings.instance_type,
        "VolumeSizeInGB": spec.volume_size_gb or settings.volume_size_gb or MIN_VOLUME_GB,
    }
    if settings.volume_kms_key_id:
        cluster["VolumeKmsKeyId"] = settings.volume_kms_key_id
    output_config: dict[str, Any] = {
        "Outputs": [
            {
                "OutputName": "output",
                "S3Output": {
                    "S3Uri": _prefix(spec.output_uri),
                    "LocalPath": OUTPUT_ROOT,
                    "S3UploadMode": "EndOfJob",
                },
            }
        ]
    }
    if settings.output_kms_key_id:
        output_config["KmsKeyId"] = settings.output_kms_key_id
    env = {
        **{k: str(v) for k, v in settings.environment.items()},
        **environment,
        # Nothing but the outputs leaves a job: Kedro telemetry off, whatever was forwarded.
        **TELEMETRY_OFF,
        # The wheel is importable as a zip: the code ships per run, the image stays.
        "PYTHONPATH": f"{CODE_DIR}/{wheel}",
        "PYTHONUNBUFFERED": "1",
    }
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingResources": {"ClusterConfig": cluster},
        "AppSpecification": {
            "ImageUri": settings.image_uri or "local",
            "ContainerEntrypoint": ["python3", "-m", ENTRYPOINT_MODULE],
            "ContainerArguments": entrypoint_arguments(
                spec,
                package=package,
                container_env=settings.container_env,
                conf_archive=conf_archive,
            ),
        },
        "RoleArn": settings.role_arn or "arn:aws:iam::000000000000:role/local-backend",
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": output_config,
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_s},
        "Environment": env,
        "Tags": [
            {"Key": str(k), "Value": str(v)}
            for k, v in {**settings.tags, **_job_tags(spec)}.items()
        ],
    }
    network: dict[str, Any] = {}
    if settings.security_group_ids or settings.subnets:
        network["VpcConfig"] = {
            "SecurityGroupIds": list(settings.security_group_ids),
            "Subnets": list(settings.subnets),
        }
    if settings.enable_network_isolation:
        network["EnableNetworkIsolation"] = True
    if network:
        request["NetworkConfig"] = network
    return request


def _job_tags(spec: JobSpec) -> dict[str, str]:
    tags = {"waveshard:namespace": spec.namespace}
    if spec.split:
        tags["waveshard:partition"] = f"{spec.partition.index + 1}/{spec.partition.count}"
    return tags


def _prefix(uri: str) -> str:
    return uri.rstrip("/") + "/"


def _s3_input(name: str, uri: str, local_path: str, data_type: str = "S3Prefix") -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            # A manifest is one object; a prefix ends with "/" (not a sibling's prefix).
            "S3Uri": uri if data_type == "ManifestFile" else _prefix(uri),
            "LocalPath": local_path,
            "S3DataType": data_type,
            "S3InputMode": "File",
            # Every instance gets the whole prefix: a header and its .dat files
            # must land on the same machine.
            "S3DataDistributionType": "FullyReplicated",
        },
    }

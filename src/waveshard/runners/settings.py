"""Job settings: ``conf/<env>/processing.yml`` overridden by ``--runner-params``.

One flat namespace of plain names, so that every setting of the YAML file can be
overridden on the command line as ``--runner-params name=value``.

The defaults live here, in :class:`ProcessingSettings`, and nowhere else: the
YAML files list them as commented lines (``# name: default``) and set only what
an environment changes; a test checks that the comments match this class.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import click

BACKENDS = ("sagemaker", "local")
COMBINE_MODES = ("driver", "job")
ISOLATION_MODES = ("none", "image")
#: How a job reads its input: from S3 as it goes, or staged onto its volume first.
INPUT_MODES = ("stream", "file")
#: Seconds between two describes of a running job (first, and at most while nothing
#: changes), per backend: SageMaker's API is rate-limited and jobs take minutes;
#: local subprocesses are watched closely.
POLL_DEFAULTS = {"sagemaker": (15.0, 120.0), "local": (0.2, 2.0)}

#: An IAM role ARN (any partition).
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
#: An image in ECR, whose host names its region.
ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})?$"
)
#: Any registry/repository[:tag|@digest] reference.
IMAGE = re.compile(
    r"^[a-z0-9.-]+(?::\d+)?/[a-z0-9]+(?:[._/-][a-z0-9]+)*"
    r"(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})?$"
)
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")


class SettingsError(click.ClickException, ValueError):
    """A job setting is missing or invalid; the message names the setting and the fix.

    A ``click.ClickException`` so that ``kedro run`` prints it as one ``Error: ...``
    line, as it does the storage checks, instead of a traceback.
    """


def unknown_names_error(unknown: list[str], where: str) -> SettingsError:
    """The error for misspelt setting names, with the closest valid name of each."""
    names = ProcessingSettings.names()
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return SettingsError(
        f"Unknown {where}: {', '.join(hints)}. Valid names are listed in conf/aws/processing.yml."
    )


@dataclass(frozen=True, kw_only=True)
class ProcessingSettings:
    """Everything one run of :class:`~waveshard.runners.ProcessingJobRunner` needs.

    Attributes are the keys of ``conf/<env>/processing.yml`` (each documented there);
    the values below are the defaults of every environment.
    """

    backend: str = "sagemaker"
    role_arn: str | None = None
    image_uri: str | None = None
    region: str | None = None
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_size_gb: int | None = None
    max_runtime_s: int = 24 * 3600
    max_concurrent_jobs: int = 4
    input_mode: str | None = None
    max_partition_gb: float | None = None
    code_uri: str | None = None
    volume_kms_key_id: str | None = None
    output_kms_key_id: str | None = None
    security_group_ids: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)
    enable_network_isolation: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    forward_env: list[str] = field(default_factory=list)
    container_env: str = "container"
    job_name_prefix: str = "ws"
    combine: str = "driver"
    dry_run: bool = False
    force: bool = False
    allow_partial: bool = False
    poll_initial_s: float | None = None
    poll_max_s: float | None = None
    startup_s: float = 240.0
    compute_mb_s_per_vcpu: dict[str, float] = field(
        default_factory=lambda: {"profile": 200.0, "clinical": 20.0}
    )
    compute_default_mb_s_per_vcpu: float = 20.0
    staging_mb_s: float | None = None
    listing: str | None = None
    prices: dict[str, float] = field(default_factory=dict)
    vcpus: dict[str, int] = field(default_factory=dict)
    s3_read_mb_s: dict[str, float] = field(default_factory=dict)
    s3_get_per_1000: float | None = None
    storage_gb_month: float | None = None
    local_work_dir: str | None = None
    isolation: str = "none"
    image_root: str | None = None
    live: bool = True

    @classmethod
    def names(cls) -> list[str]:
        """Every setting name, as accepted in processing.yml and --runner-params."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every setting's default value."""
        return dataclasses.asdict(cls())

    @classmethod
    def from_sources(cls, *sources: dict[str, Any] | None) -> ProcessingSettings:
        """Merge sources left to right (later wins) and coerce each value to its type.

        Args:
            *sources: Mappings of setting name to value; ``None`` values are ignored,
                so an unset runner parameter never hides a YAML value.

        Raises:
            SettingsError: On an unknown name or a value of the wrong type.
        """
        merged: dict[str, Any] = {}
        for source in sources:
            for key, value in (source or {}).items():
                if value is not None:
                    merged[key] = value
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(merged) - set(fields))
        if unknown:
            raise unknown_names_error(unknown, "processing setting(s) in processing.yml")
        values = {k: _coerce(k, v, fields[k]) for k, v in merged.items()}
        settings = cls(**values)
        settings.validate_common()
        first, most = POLL_DEFAULTS[settings.backend]
        return dataclasses.replace(
            settings,
            poll_initial_s=first if settings.poll_initial_s is None else settings.poll_initial_s,
            poll_max_s=most if settings.poll_max_s is None else settings.poll_max_s,
        )

    def validate_common(self) -> None:
        """Checks that hold for every backend."""
        if self.backend not in BACKENDS:
            raise SettingsError(
                f"backend={self.backend!r} is not supported: use one of {', '.join(BACKENDS)} "
                "(--runner-params backend=local)."
            )
        if self.combine not in COMBINE_MODES:
            raise SettingsError(
                f"combine={self.combine!r} is not supported: use combine=driver (the "
                "non-namespaced nodes run in the driver after every job) or combine=job "
                "(as one more job)."
            )
        if self.isolation not in ISOLATION_MODES:
            raise SettingsError(
                f"isolation={self.isolation!r} is not supported: use isolation=none (jobs run "
                "with this interpreter) or isolation=image (jobs run inside the image's root "
                "file system, backend=local only)."
            )
        if self.isolation == "image" and self.backend != "local":
            raise SettingsError(
                f"isolation=image applies to backend=local only (backend={self.backend}): "
                "SageMaker runs the image itself. Use --runner-params "
                "backend=local,isolation=image."
            )
        if self.input_mode is not None and self.input_mode not in INPUT_MODES:
            raise SettingsError(
                f"input_mode={self.input_mode!r} is not supported: use input_mode=stream (jobs "
                "read S3 directly), input_mode=file (inputs copied onto the volume first) or "
                "null (stream when the inputs are on S3)."
            )
        if self.listing is not None and not self.dry_run:
            raise SettingsError(
                f"listing={self.listing} plans from a listing instead of the bucket: it only "
                "makes a plan, add dry_run=true."
            )
        if self.max_partition_gb is not None and self.max_partition_gb <= 0:
            raise SettingsError(
                f"max_partition_gb must be positive or null, got {self.max_partition_gb}."
            )
        for name in ("max_concurrent_jobs", "instance_count", "volume_size_gb", "max_runtime_s"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}.")

    def checked(self, *, default_region: str | None, submitting: bool) -> ProcessingSettings:
        """These settings checked for their backend, with the jobs' region resolved.

        Runs before anything is uploaded, submitted or skipped. The shapes of the
        role ARN, image URI and region are checked whenever they are set; a
        submission to SageMaker also needs them (a dry run only shows what is
        missing). The jobs run in ``region``, else ``default_region`` (the AWS
        environment or profile), else the region of an ECR image; an ECR image
        in another region than the jobs' is an error, never a silent drift.

        Args:
            default_region: The region boto3 would use (environment, profile).
            submitting: Jobs will be submitted (not a dry run).

        Returns:
            The settings, ``region`` filled in for backend=sagemaker.

        Raises:
            SettingsError: One line naming the setting and the fix.
        """
        if self.role_arn and not ROLE_ARN.match(self.role_arn):
            raise SettingsError(
                f"role_arn={self.role_arn!r} is not an IAM role ARN: expected "
                "arn:aws:iam::<12-digit account>:role/<name>, e.g. "
                "role_arn=arn:aws:iam::123456789012:role/waveshard-processing."
            )
        if self.image_uri and not IMAGE.match(self.image_uri):
            raise SettingsError(
                f"image_uri={self.image_uri!r} is not an image reference: expected "
                "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (see "
                "docs/sagemaker.md, 'image')."
            )
        if self.region and not REGION.match(self.region):
            raise SettingsError(
                f"region={self.region!r} is not an AWS region name (e.g. eu-west-1)."
            )
        if self.backend != "sagemaker":
            return self
        if submitting:
            missing = [n for n in ("role_arn", "image_uri") if not getattr(self, n)]
            if missing:
                raise SettingsError(
                    f"Setting(s) {', '.join(missing)} missing for backend=sagemaker: set "
                    "them in conf/aws/processing.yml or pass --runner-params "
                    + ",".join(f"{n}=..." for n in missing)
                    + " (or backend=local to try the jobs on this machine)."
                )
        ecr = ECR_IMAGE.match(self.image_uri or "")
        image_region = ecr["region"] if ecr else None
        if image_region and self.region and image_region != self.region:
            raise SettingsError(
                f"image_uri is in {image_region} but region={self.region}: jobs pull "
                f"their image in their own region. Push the image to {self.region} or "
                f"set region={image_region}."
            )
        if image_region and not self.region and default_region not in (None, image_region):
            raise SettingsError(
                f"Jobs would start in {default_region} (AWS_DEFAULT_REGION or the AWS "
                f"profile) but image_uri is in {image_region}: pass region={image_region} "
                "(--runner-params or processing.yml)."
            )
        region = self.region or default_region or image_region
        if region is None and submitting:
            raise SettingsError(
                "No AWS region for the jobs: pass region=<region of your image>, e.g. "
                "--runner-params region=eu-west-1."
            )
        return dataclasses.replace(self, region=region)


def load_settings(*, env: str | None, conf_source, overrides: dict[str, Any]) -> ProcessingSettings:
    """``processing.yml`` of the run's environment, then the runner parameters.

    Prices and instance facts (``vcpus``, ``s3_read_mb_s``, S3 and storage prices)
    come from ``instance_prices.yml``; the same keys in ``processing.yml`` add to
    them or change them.
    """
    from waveshard import config

    from_yaml = config.read("processing", env=env, conf_source=conf_source)
    facts = config.read("prices", env=env, conf_source=conf_source)
    # Tables of instance facts: processing.yml adds to (or changes) the shared ones.
    tables = {
        name: {**(facts.get(name) or {}), **(from_yaml.pop(name, None) or {})}
        for name in ("prices", "vcpus", "s3_read_mb_s")
    }
    scalars = {name: facts.get(name) for name in ("s3_get_per_1000", "storage_gb_month")}
    return ProcessingSettings.from_sources(scalars, from_yaml, tables, overrides)


def _coerce(name: str, value: Any, spec: dataclasses.Field) -> Any:
    kind = str(spec.type)
    try:
        if kind.startswith("bool"):
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return lowered in ("true", "1", "yes")
            return bool(value)
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("list"):
            if isinstance(value, str):
                return [v for v in value.replace(";", " ").split() if v]
            return [str(v) for v in value]
        if kind.startswith("dict"):
            if not isinstance(value, dict):
                raise ValueError(value)
            return {str(k): v for k, v in value.items()}
        return None if value is None else str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(
            f"Processing setting {name}={value!r} is not a valid {kind}: fix it in "
            "conf/<env>/processing.yml or --runner-params."
        ) from exc

"""Job settings: ``conf/<env>/processing.yml`` overridden by ``--runner-params``.

One flat namespace of plain names, so that every setting of the YAML file can be
overridden on the command line as ``--runner-params name=value``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

BACKENDS = ("sagemaker", "local")
COMBINE_MODES = ("driver", "job")
ISOLATION_MODES = ("none", "image")


class SettingsError(ValueError):
    """A job setting is missing or invalid; the message names the setting and the fix."""


@dataclass(frozen=True, kw_only=True)
class ProcessingSettings:
    """Everything one run of :class:`~waveshard.runners.ProcessingJobRunner` needs.

    Attributes mirror the keys of ``conf/aws/processing.yml`` (documented there).
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
    poll_initial_s: float = 10.0
    poll_max_s: float = 60.0
    startup_s: float = 240.0
    throughput_mb_s: float = 20.0
    prices: dict[str, float] = field(default_factory=dict)
    local_work_dir: str | None = None
    isolation: str = "none"
    image_root: str | None = None
    live: bool = True

    @classmethod
    def names(cls) -> list[str]:
        """Every setting name, as accepted in processing.yml and --runner-params."""
        return [f.name for f in dataclasses.fields(cls)]

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
            raise SettingsError(
                f"Unknown processing setting(s) {unknown}: check the spelling in "
                f"conf/<env>/processing.yml or --runner-params; valid names are "
                f"{', '.join(sorted(fields))}."
            )
        values = {k: _coerce(k, v, fields[k]) for k, v in merged.items()}
        settings = cls(**values)
        settings.validate_common()
        return settings

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
        for name in ("max_concurrent_jobs", "instance_count", "volume_size_gb", "max_runtime_s"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}.")

    def validate_for_submission(self) -> None:
        """Checks needed before anything is sent to SageMaker."""
        if self.backend != "sagemaker":
            return
        missing = [n for n in ("role_arn", "image_uri", "code_uri") if not getattr(self, n)]
        if missing:
            raise SettingsError(
                f"Setting(s) {', '.join(missing)} missing for backend=sagemaker: set them in "
                "conf/aws/processing.yml or pass --runner-params "
                + ",".join(f"{n}=..." for n in missing)
                + "."
            )


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

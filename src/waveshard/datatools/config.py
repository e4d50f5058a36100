"""S3 settings of a Kedro environment, for the data tools (same source as ``kedro run``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException, OmegaConfigLoader
from kedro.utils import find_kedro_project

from waveshard.hooks import S3_CREDENTIALS, local_credentials


@dataclass(frozen=True, kw_only=True)
class EnvSettings:
    """Roots and S3 options of one environment.

    Attributes:
        env: The Kedro environment read (``aws``).
        raw_root: ``raw_root`` from its globals.
        output_root: ``output_root`` from its globals.
        storage_options: s3fs options: the ``s3`` credentials entry (empty means
            the AWS chain), ``endpoint_url`` and the write arguments.
    """

    env: str
    raw_root: str | None = None
    output_root: str | None = None
    storage_options: dict[str, Any] = field(default_factory=dict)


def env_settings(env: str = "aws", project_path: Path | None = None) -> EnvSettings:
    """Read ``conf/base`` + ``conf/<env>`` (and ``conf/local`` credentials) of the project.

    Args:
        env: Kedro environment whose globals hold the S3 settings.
        project_path: Project root; found from the working directory if omitted.

    Returns:
        The settings; empty when no Kedro project is found.
    """
    project_path = project_path or find_kedro_project(Path.cwd())
    if project_path is None or not Path(project_path, "conf", env).is_dir():
        return EnvSettings(env=env)
    conf = Path(project_path, "conf")
    loader = OmegaConfigLoader(
        conf_source=str(conf), env=env, base_env="base", default_run_env="local"
    )
    try:
        globals_ = dict(loader["globals"])
    except MissingConfigException:
        globals_ = {}
    try:
        credentials = dict(loader["credentials"])
    except MissingConfigException:
        credentials = {}
    if env != "local":
        credentials.update(local_credentials(conf))
    s3 = globals_.get("s3") or {}
    options: dict[str, Any] = dict(credentials.get(S3_CREDENTIALS) or {})
    if s3.get("endpoint_url"):
        options["endpoint_url"] = s3["endpoint_url"]
    if s3.get("write_args"):
        options["s3_additional_kwargs"] = dict(s3["write_args"])
    return EnvSettings(
        env=env,
        raw_root=globals_.get("raw_root"),
        output_root=globals_.get("output_root"),
        storage_options=options,
    )

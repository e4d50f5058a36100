"""The one way waveshard reads its configuration (``conf/<env>/*.yml``).

Everything goes through :func:`read`, which reads a key (``parameters``,
``globals``, ``credentials``, ``processing``, ``catalog`` ...) of one environment
the way ``kedro run`` does: ``conf/base`` merged with ``conf/<env>``, resolved by
Kedro's ``OmegaConfigLoader``.

Two facts shape this module:

* Kedro registers pipelines lazily, after the session's context exists. The
  project hook hands every new context to :func:`attach`, so the pipeline
  registry reads ``groups`` from the run's own parameters: ``conf/<env>`` and
  ``--params groups=...`` are honoured, never silently ignored.
* An ``OmegaConfigLoader`` registers the process-wide ``globals`` resolver when
  it is created. Reading another environment in the middle of a session would
  leave that environment's globals behind for the session's later reads, so
  :func:`read` gives the attached session its own globals back (public OmegaConf
  API only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException, OmegaConfigLoader
from kedro.utils import find_kedro_project
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationResolutionError

#: MIMIC-III Waveform Database patient groups, used when ``groups`` is not set.
DEFAULT_GROUPS = tuple(str(g) for g in range(30, 40))
#: The credentials entry the S3 catalog entries name (``credentials: s3``).
S3_CREDENTIALS = "s3"
#: The environment ``kedro run`` uses when none is given.
DEFAULT_ENV = "local"
#: Files of each key this project reads beyond Kedro's own four.
PATTERNS = {
    "processing": ["processing*"],
    "prices": ["instance_prices*"],
}


@dataclass
class _Session:
    """The running session's context, as far as configuration is concerned."""

    env: str
    conf_source: Path
    params: dict[str, Any]
    loader: Any


@dataclass
class _State:
    """The session attached last, and the groups the pipelines were registered with."""

    session: _Session | None = None
    registered_groups: tuple[str, ...] | None = None


_state = _State()


class ConfigError(ValueError):
    """A setting with a value waveshard cannot use; the message names the fix."""


def project_root(project_path: Path | None = None) -> Path | None:
    """The Kedro project root: ``project_path``, or found from the working directory."""
    return Path(project_path) if project_path else find_kedro_project(Path.cwd())


def attach(context: Any) -> None:
    """Remember a new session's context (called by the project hook).

    If the run's ``groups`` differ from those the pipelines were registered
    with, Kedro is told to register them again before it reads them.
    """
    loader = context.config_loader
    _state.session = _Session(
        env=context.env or DEFAULT_ENV,
        conf_source=Path(str(loader.conf_source)),
        # The loader's parameters include --params. Not ``context.params``: Kedro
        # validates those against the registered pipelines, which would register
        # them before the run's groups are known.
        params=_get(loader, "parameters"),
        loader=loader,
    )
    wanted = tuple(groups())
    if _state.registered_groups is not None and wanted != _state.registered_groups:
        from kedro.framework.project import PACKAGE_NAME, pipelines

        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")


def read(
    key: str,
    *,
    env: str | None = None,
    conf_source: Path | str | None = None,
    runtime_params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One key of one environment's configuration, ``{}`` if no file has it.

    Args:
        key: What to read: ``parameters``, ``globals``, ``credentials``,
            ``catalog``, ``processing`` or ``prices``.
        env: Environment merged over ``conf/base``; default: the running
            session's, else ``local``.
        conf_source: The ``conf`` folder; default: the running session's, else
            the project's.
        runtime_params: Values for ``${runtime_params:...}``; default: none, or
            the session's when reading the session's own environment.
    """
    session = _state.session
    same_as_session = (
        session is not None
        and (env is None or env == session.env)
        and (conf_source is None or Path(conf_source) == session.conf_source)
        and runtime_params is None
    )
    if same_as_session and (key in session.loader.config_patterns or key in session.loader):
        return _get(session.loader, key)
    if conf_source is None:
        if session is not None:
            conf_source = session.conf_source
        else:
            root = project_root()
            if root is None:
                return {}
            conf_source = root / "conf"
    loader = OmegaConfigLoader(
        conf_source=str(conf_source),
        env=env or (session.env if session else DEFAULT_ENV),
        base_env="base",
        default_run_env=DEFAULT_ENV,
        runtime_params=runtime_params or {},
        config_patterns=PATTERNS,
    )
    try:
        return _get(loader, key)
    finally:
        _give_back_globals()


def _get(loader: Any, key: str) -> dict[str, Any]:
    try:
        return dict(loader[key])
    except MissingConfigException:
        return {}


def _give_back_globals() -> None:
    """Register the attached session's ``globals`` resolver again (see module doc)."""
    session = _state.session
    if session is None:
        return
    values = OmegaConf.create(_get(session.loader, "globals"))
    missing = object()

    def resolve(variable: str, default: Any = missing) -> Any:
        # The same contract as Kedro's own globals resolver.
        if variable.startswith("_"):
            raise InterpolationResolutionError(
                "Keys starting with '_' are not supported for globals."
            )
        value = OmegaConf.select(values, variable, default=default)
        if value is missing:
            raise InterpolationResolutionError(
                f"Globals key '{variable}' not found and no default value provided."
            )
        return value

    OmegaConf.register_new_resolver("globals", resolve, replace=True)


def parse_groups(value: Any, source: str) -> list[str]:
    """Group ids from a parameter value: a list, one id, or ids space- or ``;``-separated.

    Raises:
        ConfigError: If the value names no group.
    """
    if isinstance(value, list | tuple):
        found = [str(v).strip() for v in value]
    else:
        found = re.split(r"[\s;]+", str(value).strip())
    found = [g for g in found if g]
    if not found:
        raise ConfigError(
            f"groups from {source} names no group: give the patient-group folders, e.g. "
            '--params "groups=30 31" or groups: ["30", "31"] in conf/<env>/parameters.yml.'
        )
    return found


def groups() -> list[str]:
    """The patient groups of this run: ``groups`` from the run's parameters.

    The running session's parameters hold ``conf/base``, ``conf/<env>`` and
    ``--params``; without a session, ``conf/base`` and ``conf/local`` are read.
    """
    session = _state.session
    if session is not None:
        params, source = session.params, f"conf/{session.env} or --params"
    else:
        params, source = read("parameters", env=DEFAULT_ENV), "conf/local"
    value = params.get("groups")
    return list(DEFAULT_GROUPS) if value is None else parse_groups(value, source)


def registered(groups_used: list[str]) -> None:
    """Note the groups the pipelines were registered with (called by the registry)."""
    _state.registered_groups = tuple(groups_used)


def local_credentials(conf_source: Path | str) -> dict[str, Any]:
    """Entries of ``conf/local/credentials*.yml``, for runs of any environment.

    ``kedro run --env aws`` loads ``conf/base`` and ``conf/aws`` only, yet keys
    belong in the gitignored ``conf/local``.
    """
    if not Path(conf_source, DEFAULT_ENV).is_dir():
        return {}
    return read("credentials", env=DEFAULT_ENV, conf_source=conf_source)


@dataclass(frozen=True, kw_only=True)
class StorageSettings:
    """Roots and S3 options of one environment (for the data tools).

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


def storage_settings(env: str = "aws", project_path: Path | None = None) -> StorageSettings:
    """S3 settings of ``conf/<env>`` and ``conf/local`` credentials, as ``kedro run`` sees them.

    Args:
        env: Kedro environment whose globals hold the S3 settings.
        project_path: Project root; found from the working directory if omitted.

    Returns:
        The settings; empty when no Kedro project or no such environment is found.
    """
    root = project_root(project_path)
    if root is None or not Path(root, "conf", env).is_dir():
        return StorageSettings(env=env)
    conf = Path(root, "conf")
    globals_ = read("globals", env=env, conf_source=conf)
    credentials = read("credentials", env=env, conf_source=conf)
    if env != DEFAULT_ENV:
        credentials.update(local_credentials(conf))
    s3 = globals_.get("s3") or {}
    options: dict[str, Any] = dict(credentials.get(S3_CREDENTIALS) or {})
    if s3.get("endpoint_url"):
        options["endpoint_url"] = s3["endpoint_url"]
    if s3.get("write_args"):
        options["s3_additional_kwargs"] = dict(s3["write_args"])
    return StorageSettings(
        env=env,
        raw_root=globals_.get("raw_root"),
        output_root=globals_.get("output_root"),
        storage_options=options,
    )

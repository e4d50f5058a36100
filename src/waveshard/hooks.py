"""Project hooks: the run's configuration, credentials for every environment, a storage preflight.

* Every new context is handed to :func:`waveshard.config.attach`, so the
  pipeline registry reads ``groups`` from the run's own parameters.
* ``kedro run --env aws`` loads ``conf/base`` and ``conf/aws`` only, yet keys
  belong in the gitignored ``conf/local/credentials.yml``. :class:`StorageHooks`
  adds that file's entries to the run's credentials, and an empty ``s3`` entry
  when there is none, which s3fs reads as "use the standard AWS chain"
  (environment variables, profile, instance role).
* Before a pipeline runs, every S3 root it reads or writes is probed once, so a
  wrong bucket, a missing prefix, bad credentials or an unreachable endpoint
  stop the run with one message naming the setting, before any extraction.
* Before a pipeline runs, the group folders it reads under ``raw_root`` are
  asked whether they hold anything: a root that names none of the configured
  groups (locally or on S3) stops the run with one line naming ``raw_root`` and
  ``groups``, before any output is written.
* After a run, :class:`RunScopeHooks` says where the results are, or that
  combine did not run (``--namespaces group_30``) and how to run some groups
  end to end.
"""

from __future__ import annotations

import logging
import posixpath
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from waveshard import config
from waveshard.config import S3_CREDENTIALS
from waveshard.datatools.rawcheck import check_groups_present
from waveshard.datatools.s3check import (
    SettingHints,
    check_s3_root,
    endpoint_hint,
    s3_filesystem,
)
from waveshard.pipelines.namespaces import group_of
from waveshard.session import unknown_namespaces_error
from waveshard.uris import is_s3, normalize

logger = logging.getLogger(__name__)


class StorageHooks:
    """Merges ``conf/local`` credentials into any run env and probes S3 roots before a run."""

    def __init__(self) -> None:
        self._env = "local"
        self._credentials_source = "the standard AWS chain"
        self._project_path = ""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        config.attach(context)
        loader = context.config_loader
        self._env = context.env or config.DEFAULT_ENV
        self._project_path = Path(context.project_path).as_posix()
        try:
            credentials = dict(loader["credentials"])
        except MissingConfigException:
            credentials = {}
        local = config.local_credentials(loader.conf_source)
        if self._env != "local":
            credentials.update(local)
        # One instance serves every session of the process: decide afresh each time.
        if local.get(S3_CREDENTIALS):
            self._credentials_source = "conf/local/credentials.yml (entry `s3`)"
        elif credentials.get(S3_CREDENTIALS):
            self._credentials_source = f"conf/{self._env}/credentials.yml (entry `s3`)"
        else:
            self._credentials_source = "the standard AWS chain"
        credentials.setdefault(S3_CREDENTIALS, {})
        # Entries set on the loader win over the files for the rest of the session.
        loader["credentials"] = credentials
        check_requested_namespaces()

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        env = run_params.get("env") or self._env
        runtime = run_params.get("runtime_params") or {}
        globals_file = f"conf/{env}/globals.yml"
        raw = _raw_datasets(pipeline, catalog)
        if raw:
            root = posixpath.dirname(raw[0].path)
            if is_s3(root):
                options = raw[0].storage_options
                self._check(
                    "raw_root",
                    root,
                    fs=s3_filesystem(root, options),
                    options=options,
                    globals_file=globals_file,
                    kind="raw",
                    from_params="raw_root" in runtime,
                    must_have_objects=True,
                )
        raw_root = _param(catalog, "raw_root")
        # Only the groups read from raw_root: a job's staged input folder is not the
        # user's setting, and an empty group there yields empty outputs as documented.
        # Kedro makes a dataset's local path absolute (from the project folder).
        root_path = raw_root
        if raw_root and not is_s3(raw_root) and not posixpath.isabs(raw_root):
            root_path = posixpath.join(self._project_path, raw_root)
        under_root = [d for d in raw if root_path and d.path.startswith(root_path + "/")]
        if under_root:
            check_groups_present(
                raw_root=raw_root,
                root_path=root_path,
                groups=[d.group for d in under_root],
                group_urls=[d.path for d in under_root],
                storage_options=under_root[0].storage_options,
                globals_file="conf/base/globals.yml" if env == config.DEFAULT_ENV else globals_file,
                from_params="raw_root" in runtime,
                remote_env=env != config.DEFAULT_ENV,
            )
        output = _param(catalog, "output_root")
        if output and is_s3(output):
            fs = _output_fs(pipeline, catalog, output)
            if fs is not None:
                self._check(
                    "output_root",
                    output,
                    fs=fs,
                    options=dict(fs.storage_options),
                    globals_file=globals_file,
                    kind="output",
                    from_params="output_root" in runtime,
                    must_write=True,
                )

    def _check(
        self,
        setting: str,
        url: str,
        *,
        fs: Any,
        options: dict[str, Any],
        globals_file: str,
        kind: str,
        from_params: bool,
        must_have_objects: bool = False,
        must_write: bool = False,
    ) -> None:
        params = f"--params {setting}=s3://<bucket>/<prefix>"
        if from_params:
            bucket = prefix = f"the bucket/prefix in --params {setting}=..."
        else:
            bucket = f"{kind}_bucket in {globals_file} or {params}"
            prefix = f"{kind}_prefix in {globals_file} or {params}"
        credentials = (
            f"fix key/secret of the `{S3_CREDENTIALS}` entry in "
            + self._credentials_source.split(" ", 1)[0]
            if self._credentials_source.startswith("conf/")
            else "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or the "
            f"`{S3_CREDENTIALS}` entry of conf/local/credentials.yml"
        )
        hints = SettingHints(
            bucket=bucket,
            prefix=prefix,
            credentials=credentials,
            endpoint=endpoint_hint(options, globals_file),
            write_args=f"s3.write_args in {globals_file}",
        )
        check_s3_root(
            setting=setting,
            url=url,
            fs=fs,
            hints=hints,
            must_have_objects=must_have_objects,
            must_write=must_write,
        )
        logger.info(
            "Storage check: %s %s is usable (credentials: %s).",
            setting,
            url,
            self._credentials_source,
        )


def check_requested_namespaces() -> None:
    """``kedro run --namespaces`` names only namespaces this run's pipelines have.

    Kedro would otherwise stop with a ``ValueError`` traceback; this says which
    namespaces exist and which one was probably meant (``30`` → ``group_30``).
    Runs once the run's parameters are attached, so ``groups`` is the run's own.
    """
    import click
    from kedro.framework.project import pipelines

    ctx = click.get_current_context(silent=True)
    requested = list((ctx.params.get("namespaces") or []) if ctx is not None else [])
    if not requested:
        return
    names = list(ctx.params.get("pipelines") or []) or ["__default__"]
    available: set[str] = set()
    for name in names:
        if name in pipelines:
            available.update(n.namespace for n in pipelines[name].nodes if n.namespace)
    tops = sorted({a.split(".")[0] for a in available})
    error = unknown_namespaces_error(requested, tops) if tops else None
    if error is not None:
        raise error


def _raw_datasets(pipeline: Any, catalog: Any) -> list[Any]:
    from waveshard.datasets import WfdbGroupDataset

    found = []
    for name in sorted(pipeline.inputs()):
        if name.endswith("raw_records"):
            dataset = catalog.get(name)
            if isinstance(dataset, WfdbGroupDataset):
                found.append(dataset)
    return found


def _param(catalog: Any, name: str) -> str | None:
    """A root parameter (``raw_root``, ``output_root``), slashes normalized, or None."""
    try:
        return normalize(str(catalog.load(f"params:{name}")))
    except Exception:  # a project without the parameter has nothing to check
        return None


def _output_fs(pipeline: Any, catalog: Any, output_root: str) -> Any | None:
    """The filesystem of a pipeline output stored under ``output_root``."""
    _, _, root_path = output_root.partition("://")
    for name in sorted(pipeline.outputs() | pipeline.all_outputs()):
        dataset = catalog.get(name)
        fs = getattr(dataset, "_fs", None)
        filepath = str(getattr(dataset, "_filepath", ""))
        if fs is not None and filepath.startswith(root_path):
            return fs
    return None


class RunScopeHooks:
    """Ends a run with where its results are, or with what it left out and how to get it.

    ``--namespaces group_30`` (or ``--pipelines profile``) runs per-group nodes
    only: the group's tables under ``02_intermediate/`` are written, the combined
    ``04_feature/`` and ``08_reporting/`` are not. Kedro says nothing about it;
    this hook does, in one line naming the way to run some groups end to end.
    """

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        # Runs that pick nodes by name (ProcessingJobRunner's jobs, --nodes) are one part
        # of a run that reports elsewhere.
        if run_params.get("node_names"):
            return
        nodes = pipeline.nodes
        per_group = sorted({n.namespace.split(".")[0] for n in nodes if n.namespace})
        combined = [n for n in nodes if not n.namespace]
        output = _param(catalog, "output_root") or "output_root"
        if combined:
            written = {name for node in combined for name in node.outputs}
            features = [name for name in _FEATURE_TABLES if name in written]
            reports = [name for name in _REPORT_TABLES if name in written]
            logger.info(
                "Results under %s: 04_feature/ (%s) and 08_reporting/ (%s); README, "
                "'Using the results', shows how to load them.",
                output,
                ", ".join(features),
                ", ".join(reports),
            )
            return
        selection = _selection(run_params)
        if not per_group or selection is None:
            return
        groups = " ".join(g for g in (group_of(ns) for ns in per_group) if g)
        logger.warning(
            "Combine did not run: %s runs per-group nodes only (%s), so %s/04_feature/ and "
            "%s/08_reporting/ were not written. To run these groups end to end: kedro run "
            '--params "groups=%s" (or the same command without %s to combine every group).',
            selection,
            ", ".join(per_group),
            output,
            output,
            groups,
            selection.split(" ", 1)[0],
        )


#: The combined outputs the end-of-run line names, in the order it names them.
_FEATURE_TABLES = ("segment_features", "record_features", "window_features")
_REPORT_TABLES = (
    "signal_stats", "extraction_errors", "run_summary", "clinical_errors", "clinical_summary",
)  # fmt: skip


def _selection(run_params: dict[str, Any]) -> str | None:
    """The option that limited the run to per-group nodes, as the user typed it."""
    if run_params.get("namespaces"):
        return f"--namespaces {','.join(run_params['namespaces'])}"
    if run_params.get("pipeline_names"):
        return f"--pipelines {','.join(run_params['pipeline_names'])}"
    return None

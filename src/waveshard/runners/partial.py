"""When jobs fail: the command that reruns them, and a combine without them.

``allow_partial=true`` runs the non-namespaced nodes without the failed
namespaces' datasets (read as no parts at all, see :mod:`parts`) and records what
is missing next to the first combined output; a later complete combine removes
that record.
"""

from __future__ import annotations

import json
import logging
import shlex
import tempfile
from pathlib import Path

from kedro.pipeline import Pipeline

from waveshard.runners import storage
from waveshard.runners.parts import PartsNotSupported, read_in_parts
from waveshard.runners.planning import dataset_location

logger = logging.getLogger(__name__)
#: File recording what a partial combine is missing.
PARTIAL_RECORD = "_waveshard_partial.json"


class ProcessingJobsFailed(RuntimeError):
    """Some namespaces' jobs failed; the message holds the command that reruns them."""


def partial_pipeline(rest: Pipeline, failed, catalog, *, parts=None) -> Pipeline:
    """The driver nodes without the failed namespaces' datasets (allow_partial=true).

    Works for nodes that take their inputs as ``*args`` (e.g. a concatenation);
    what is missing is logged and saved next to the first driver output.

    Args:
        rest: The non-namespaced nodes.
        failed: The failed jobs (:class:`~waveshard.runners.scheduler.JobRun`).
        catalog: The run's catalog.
        parts: Datasets the other namespaces wrote in parts (see :mod:`parts`).
    """
    missing = sorted({n for j in failed for n in j.spec.outputs} & rest.inputs())
    try:
        pipeline = read_in_parts(rest, catalog, {**(parts or {}), **{name: [] for name in missing}})
    except PartsNotSupported as exc:
        raise ProcessingJobsFailed(
            f"allow_partial=true cannot combine without {sorted(missing)}: {exc}"
        ) from exc
    record = {
        "missing_namespaces": sorted({j.spec.namespace for j in failed}),
        "missing_datasets": missing,
        "reasons": {j.spec.key: j.reason for j in failed},
    }
    logger.warning("allow_partial=true: combining without %s", record["missing_namespaces"])
    target = partial_record_uri(rest, catalog)
    if target:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "partial.json"
            path.write_text(json.dumps(record, indent=2))
            storage.put_file(path, target)
        logger.warning("What is missing is recorded in %s", target)
    return pipeline


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

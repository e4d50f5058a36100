"""Project pipelines.

The group ids decide the pipeline's shape (one namespace per group), and Kedro
registers pipelines before ``--env``/``--params`` are known, so they are read
here from ``groups`` in ``conf/base/parameters.yml`` (``conf/local`` overrides)
with a plain YAML read, or from the ``WAVESHARD_GROUPS`` environment variable
(comma-separated). To run some groups only, use ``kedro run --namespaces``.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project

from waveshard.pipelines import combine, extraction

#: MIMIC-III Waveform Database patient groups.
DEFAULT_GROUPS = tuple(str(g) for g in range(30, 40))


def configured_groups(project_path: Path | None = None) -> list[str]:
    """Group ids from ``WAVESHARD_GROUPS`` or the ``groups`` parameter.

    Args:
        project_path: Project root; found from the working directory if omitted.

    Returns:
        Group ids as strings, in configured order.
    """
    from_env = os.environ.get("WAVESHARD_GROUPS", "").strip()
    if from_env:
        return [g.strip() for g in from_env.split(",") if g.strip()]
    project_path = project_path or find_kedro_project(Path.cwd())
    groups: list[str] | None = None
    if project_path is not None:
        for env in ("base", "local"):
            path = Path(project_path, "conf", env, "parameters.yml")
            if path.is_file():
                value = (yaml.safe_load(path.read_text()) or {}).get("groups")
                if value is not None:
                    groups = [str(g) for g in value]
    return groups if groups is not None else list(DEFAULT_GROUPS)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        ``extraction`` (every group namespace), ``combine`` and ``__default__``
        (both).
    """
    groups = configured_groups()
    extract = extraction.create_pipeline(groups)
    merge = combine.create_pipeline(groups)
    return {"__default__": extract + merge, "extraction": extract, "combine": merge}

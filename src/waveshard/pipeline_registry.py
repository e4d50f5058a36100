"""Project pipelines.

The patient groups decide the pipelines' shape (one namespace per group). Kedro
registers pipelines after the run's context exists, and the project hook hands
that context to :mod:`waveshard.config`, so ``groups`` comes from the run's own
parameters: ``conf/base``, ``conf/<env>`` and ``--params "groups=30 31"``.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from waveshard import config
from waveshard.pipelines import combine, profile


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        ``profile`` (every group namespace), ``combine`` and ``__default__``
        (both).
    """
    groups = config.groups()
    config.registered(groups)
    per_group = profile.create_pipeline(groups)
    merge = combine.create_pipeline(groups)
    return {"__default__": per_group + merge, "profile": per_group, "combine": merge}

"""Project pipelines.

The patient groups decide the pipelines' shape (one namespace per group). Kedro
registers pipelines after the run's context exists, and the project hook hands
that context to :mod:`waveshard.config`, so ``groups`` comes from the run's own
parameters: ``conf/base``, ``conf/<env>`` and ``--params "groups=30 31"``.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from waveshard import config
from waveshard.pipelines import clinical, combine, profile


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        ``profile`` (every group namespace), ``clinical`` (every group namespace,
        then ``window_features``), ``combine`` (both products' combine steps) and
        ``__default__`` (everything).
    """
    groups = config.groups()
    config.registered(groups)
    per_group = profile.create_pipeline(groups)
    merge = combine.create_pipeline(groups)
    windows = clinical.create_pipeline(groups)
    windows_merge = clinical.create_combine_pipeline(groups)
    return {
        "__default__": per_group + merge + windows + windows_merge,
        "profile": per_group,
        "clinical": windows + windows_merge,
        "combine": merge + windows_merge,
    }

"""The ``clinical`` pipeline: per-group window features, then ``window_features``."""

from waveshard.pipelines.clinical.pipeline import create_combine_pipeline, create_pipeline

__all__ = ["create_combine_pipeline", "create_pipeline"]

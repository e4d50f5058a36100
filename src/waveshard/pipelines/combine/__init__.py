"""Combine pipeline: merge all groups' outputs into the published tables."""

from waveshard.pipelines.combine.pipeline import create_pipeline

__all__ = ["create_pipeline"]

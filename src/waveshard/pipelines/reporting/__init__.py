"""Reporting pipeline: figures and the run report, from the combined outputs only."""

from waveshard.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]

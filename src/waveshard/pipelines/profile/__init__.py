"""Per-group profile pipeline: discover → plan_shards → extract → summarize → report."""

from waveshard.pipelines.profile.pipeline import create_pipeline

__all__ = ["create_pipeline"]

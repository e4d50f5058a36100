"""Per-group extraction pipeline: flatten → chunk → extract → summarize."""

from waveshard.pipelines.extraction.pipeline import create_pipeline

__all__ = ["create_pipeline"]

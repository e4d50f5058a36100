"""Wiring of the per-group extraction pipeline (one namespaced copy per group)."""

from __future__ import annotations

from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from waveshard.pipelines.extraction.nodes import (
    chunk_segments,
    extract_segments,
    flatten_group,
    summarize_records,
)


def create_group_pipeline() -> Pipeline:
    """The extraction pipeline of one group, before namespacing."""
    return Pipeline(
        [
            Node(
                flatten_group,
                inputs="raw_records",
                outputs=["segment_index", "discovery_problems"],
                name="flatten",
            ),
            Node(
                chunk_segments,
                inputs=[
                    "segment_index",
                    "params:extraction.n_workers",
                    "params:extraction.shards_per_worker",
                    "params:extraction.parallel_min_mb",
                ],
                outputs="shard_plan",
                name="chunk",
            ),
            Node(
                extract_segments,
                inputs=[
                    "raw_records",
                    "segment_index",
                    "shard_plan",
                    "discovery_problems",
                    "params:extraction.progress_interval_s",
                    "params:extraction.read_ahead_mb",
                ],
                outputs=["segment_rows", "value_counts", "extraction_errors", "extraction_summary"],
                name="extract",
            ),
            Node(
                summarize_records,
                inputs=["segment_rows", "value_counts", "params:signal_names"],
                outputs=["segment_features", "record_features"],
                name="summarize_records",
            ),
        ]
    )


def namespace_for(group: str) -> str:
    """Namespace of a group's pipeline, e.g. ``group_30``."""
    return f"group_{group}"


def create_pipeline(groups: Sequence[str]) -> Pipeline:
    """One namespaced copy of the extraction pipeline per patient group.

    Args:
        groups: Group ids, e.g. ``["30", ..., "39"]``.

    Returns:
        The union of ``group_<id>`` pipelines; parameters stay shared.
    """
    template = create_group_pipeline()
    # Parameters stay shared: every group is extracted with the same settings.
    shared = {name for name in template.inputs() if name.startswith("params:")}
    return sum(
        (Pipeline(template, namespace=namespace_for(g), parameters=shared) for g in groups),
        Pipeline([]),
    )

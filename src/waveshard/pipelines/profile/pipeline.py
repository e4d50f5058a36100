"""Wiring of the per-group profile pipeline (one namespaced copy per group)."""

from __future__ import annotations

from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from waveshard.pipelines.namespaces import per_group
from waveshard.pipelines.profile.nodes import (
    discover,
    extract,
    plan_shards,
    report_group,
    summarize_records,
)


def create_group_pipeline() -> Pipeline:
    """The profile pipeline of one group, before namespacing."""
    return Pipeline(
        [
            Node(
                discover,
                inputs="raw_records",
                outputs=["discovery", "segment_index"],
                name="discover",
            ),
            Node(
                plan_shards,
                inputs=[
                    "discovery",
                    "params:extraction.n_workers",
                    "params:extraction.shards_per_worker",
                    "params:extraction.parallel_min_mb",
                ],
                outputs="shard_plan",
                name="plan_shards",
            ),
            Node(
                extract,
                inputs=[
                    "raw_records",
                    "discovery",
                    "shard_plan",
                    "params:extraction.progress_interval_s",
                    "params:extraction.read_ahead_mb",
                ],
                outputs=["segment_rows", "value_counts", "segment_problems", "extraction_figures"],
                name="extract",
            ),
            Node(
                summarize_records,
                inputs=[
                    "discovery",
                    "segment_rows",
                    "value_counts",
                    "segment_index",
                    "params:signal_names",
                ],
                outputs=["segment_features", "record_features", "record_problems"],
                name="summarize_records",
            ),
            Node(
                report_group,
                inputs=[
                    "raw_records",
                    "discovery",
                    "segment_problems",
                    "record_problems",
                    "extraction_figures",
                ],
                outputs=["extraction_errors", "extraction_summary"],
                name="report_group",
            ),
        ]
    )


def create_pipeline(groups: Sequence[str]) -> Pipeline:
    """One namespaced copy of the profile pipeline per patient group.

    Args:
        groups: Group ids, e.g. ``["30", ..., "39"]``.

    Returns:
        The union of the ``group_<id>`` pipelines; parameters stay shared.
    """
    return per_group(create_group_pipeline(), groups)

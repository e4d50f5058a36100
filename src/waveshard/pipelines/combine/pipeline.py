"""Wiring of the combine pipeline over every group's outputs."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from waveshard.pipelines.combine.nodes import (
    combine_errors,
    combine_record_features,
    combine_segment_features,
    csv_copy,
    signal_statistics,
    summarize_run,
)
from waveshard.pipelines.namespaces import namespace_for


def create_pipeline(groups: Sequence[str]) -> Pipeline:
    """Merge the outputs of the ``group_<id>`` namespaces of ``groups``."""

    def each(name: str) -> list[str]:
        return [f"{namespace_for(g)}.{name}" for g in groups]

    # Reading the groups' namespaced outputs from outside their namespaces is the
    # point of this step; Kedro's generic advice against dotted names does not apply.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "One or more dataset names contain '.'")
        return _combine_nodes(each)


def _combine_nodes(each) -> Pipeline:
    return Pipeline(
        [
            Node(
                combine_segment_features,
                each("segment_features"),
                "segment_features",
                name="combine_segment_features",
            ),
            Node(
                combine_record_features,
                each("record_features"),
                "record_features",
                name="combine_record_features",
            ),
            Node(
                combine_errors,
                each("extraction_errors"),
                "extraction_errors",
                name="combine_errors",
            ),
            Node(signal_statistics, "record_features", "signal_stats", name="signal_statistics"),
            # Reporting tables are Parquet (typed) with a CSV copy to read by eye.
            Node(csv_copy, "extraction_errors", "extraction_errors_csv", name="errors_csv"),
            Node(csv_copy, "signal_stats", "signal_stats_csv", name="signal_stats_csv"),
            Node(summarize_run, each("extraction_summary"), "run_summary", name="summarize_run"),
        ]
    )

"""Wiring of the ``clinical`` pipeline: one namespaced copy per group, then a combine step."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from waveshard.pipelines.clinical.nodes import (
    combine_clinical_errors,
    combine_window_features,
    compute_windows,
    discover_records,
    plan_record_shards,
    summarize_clinical_run,
)
from waveshard.pipelines.combine.nodes import csv_copy
from waveshard.pipelines.namespaces import namespace_for, per_group


def create_group_pipeline() -> Pipeline:
    """The clinical pipeline of one group, before namespacing."""
    return Pipeline(
        [
            Node(
                discover_records,
                inputs="raw_records",
                outputs="clinical_records",
                name="discover_records",
            ),
            Node(
                plan_record_shards,
                inputs=[
                    "clinical_records",
                    "params:extraction.n_workers",
                    "params:extraction.shards_per_worker",
                    "params:extraction.parallel_min_mb",
                ],
                outputs="clinical_shard_plan",
                name="plan_record_shards",
            ),
            Node(
                compute_windows,
                inputs=[
                    "raw_records",
                    "clinical_records",
                    "clinical_shard_plan",
                    "params:clinical",
                    "params:signal_names",
                    "params:extraction.progress_interval_s",
                ],
                outputs=["window_features", "clinical_errors", "clinical_summary"],
                name="compute_windows",
            ),
        ]
    )


def create_pipeline(groups: Sequence[str]) -> Pipeline:
    """One namespaced copy of the clinical pipeline per patient group.

    The namespaces are the profile's (``group_<id>``), so a run of both sends
    each group's profile and clinical nodes to the same job.
    """
    return per_group(create_group_pipeline(), groups)


def create_combine_pipeline(groups: Sequence[str]) -> Pipeline:
    """Join the groups' clinical outputs into ``window_features`` and the reports."""

    def each(name: str) -> list[str]:
        return [f"{namespace_for(g)}.{name}" for g in groups]

    # Reading the groups' namespaced outputs from outside their namespaces is the
    # point of this step; Kedro's generic advice against dotted names does not apply.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "One or more dataset names contain '.'")
        return Pipeline(
            [
                Node(
                    combine_window_features,
                    ["params:clinical", *each("window_features")],
                    "window_features",
                    name="combine_window_features",
                ),
                Node(
                    combine_clinical_errors,
                    each("clinical_errors"),
                    "clinical_errors",
                    name="combine_clinical_errors",
                ),
                # Like the profile's reporting tables: Parquet, and a CSV copy to read by eye.
                Node(
                    csv_copy, "clinical_errors", "clinical_errors_csv", name="clinical_errors_csv"
                ),
                Node(
                    summarize_clinical_run,
                    each("clinical_summary"),
                    "clinical_summary",
                    name="summarize_clinical_run",
                ),
            ]
        )

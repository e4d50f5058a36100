"""Wiring of the reporting pipeline.

It reads only combined outputs (never a group's), so it runs wherever combine
runs: after combine in a local run, in the driver, or in ProcessingJobRunner's
combine job.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from waveshard.pipelines.reporting.nodes import (
    draw_coverage,
    draw_feature_distributions,
    draw_problems,
    write_run_report,
)


def create_pipeline() -> Pipeline:
    """Figures of the run (``*_figure``, PNG) and ``run_report`` (HTML)."""
    return Pipeline(
        [
            Node(draw_coverage, "record_features", "coverage_figure", name="draw_coverage"),
            Node(
                draw_feature_distributions,
                "record_features",
                "feature_distributions_figure",
                name="draw_feature_distributions",
            ),
            Node(draw_problems, "extraction_errors", "problems_figure", name="draw_problems"),
            Node(
                write_run_report,
                {
                    "run_summary": "run_summary",
                    "extraction_errors": "extraction_errors",
                    "signal_stats": "signal_stats",
                    "coverage_png": "coverage_figure",
                    "feature_distributions_png": "feature_distributions_figure",
                    "problems_png": "problems_figure",
                },
                "run_report",
                name="write_run_report",
            ),
        ]
    )

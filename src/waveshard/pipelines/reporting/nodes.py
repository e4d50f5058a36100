"""Nodes of the reporting pipeline, which runs once after combine."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from waveshard.pipelines.reporting.summary import build_report, render_html

logger = logging.getLogger(__name__)

# matplotlib is imported when a figure is drawn, not when the pipelines are
# registered: every Kedro process registers them, and most draw nothing. The
# figures are annotated ``Any`` (they are matplotlib Figures) because Kedro
# resolves every node's annotations when it validates parameters.


def draw_coverage(record_features: pd.DataFrame) -> Any:
    """Hours of signal per signal and group (a matplotlib Figure)."""
    from waveshard.pipelines.reporting.figures import coverage_figure

    return coverage_figure(record_features)


def draw_feature_distributions(record_features: pd.DataFrame) -> Any:
    """Record-level p05 / median / p95 per signal, across records (a matplotlib Figure)."""
    from waveshard.pipelines.reporting.figures import feature_distributions_figure

    return feature_distributions_figure(record_features)


def draw_problems(extraction_errors: pd.DataFrame) -> Any:
    """Problems per error type and severity (a matplotlib Figure)."""
    from waveshard.pipelines.reporting.figures import problems_figure

    return problems_figure(extraction_errors)


def write_run_report(
    *,
    run_summary: dict[str, Any],
    extraction_errors: pd.DataFrame,
    signal_stats: pd.DataFrame,
    coverage_png: bytes,
    feature_distributions_png: bytes,
    problems_png: bytes,
) -> str:
    """Log the run's one-line report and return it as an HTML page with the figures.

    The figures are inputs (their saved PNG bytes), so this node runs after every
    figure is written: its log line is the run's last word.
    """
    report = build_report(run_summary, extraction_errors, signal_stats)
    logger.info("%s", report.line())
    return render_html(
        report,
        {
            "Coverage": coverage_png,
            "Record-level features per signal": feature_distributions_png,
        },
        problems_png=problems_png,
    )

"""Reporting: figures from the combined tables, the run report's line and page."""

from __future__ import annotations

import base64
import io
import logging
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from waveshard.contract import EXTRACTION_ERRORS, RECORD_FEATURES, SIGNAL_STATS
from waveshard.pipelines.reporting import figures, nodes
from waveshard.pipelines.reporting.summary import RunReport, build_report, render_html

LINE = re.compile(
    r"^Run report: (\d+) groups( \(\d+ missing\))?, (\d+) records; "
    r"segments (\d+) ok, (\d+) failed; problems: (none|\d+ \(.+\)); "
    r"signal hours (\d+\.\d\d) waveform, (\d+\.\d\d) numerics; "
    r"(\d+\.\d) MB at (n/a|\d+\.\d) MB/s\.$"
)


def _records() -> pd.DataFrame:
    """Record features of three groups: two waveform signals and one numeric."""
    rows = []
    for i, (group, record, kind, signal, units, hours) in enumerate(
        [
            ("30", "a", "waveform", "II", "mV", 0.5),
            ("30", "b", "waveform", "II", "mV", 0.25),
            ("31", "c", "waveform", "II", "mV", 1.0),
            ("31", "c", "waveform", "ABP", "mmHg", 2.0),
            ("32", "d", "numerics", "HR", "bpm", 3.0),
        ]
    ):
        stats = dict.fromkeys(("mean", "std", "min", "max", "p01", "p99", "p25", "p75"), 0.0)
        rows.append(
            {
                "group": group,
                "record": record,
                "kind": kind,
                "signal": signal,
                "units": units,
                "fs": 125.0,
                "n_segments": 1,
                "duration_s": hours * 3600,
                "n_samples": 100,
                "n_valid": 90,
                "missing_fraction": 0.1,
                **stats,
                "p05": -1.0 - i,
                "p50": float(i),
                "p95": 1.0 + i,
            }
        )
    return RECORD_FEATURES.frame(rows)


def _errors(*types: tuple[str, str]) -> pd.DataFrame:
    return EXTRACTION_ERRORS.frame(
        {
            "group": "30",
            "record": "r",
            "segment": f"s{i}",
            "path": "30/r/s.hea",
            "error_type": error_type,
            "severity": severity,
            "message": "m",
        }
        for i, (error_type, severity) in enumerate(types)
    )


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_hours_per_signal_and_group_add_up_the_records() -> None:
    hours = figures.hours_by_signal_and_group(_records())
    assert list(hours.columns) == ["30", "31", "32"]
    assert hours.loc[("waveform", "II")].tolist() == [0.75, 1.0, 0.0]
    assert hours.loc[("waveform", "ABP")].tolist() == [0.0, 2.0, 0.0]
    assert hours.loc[("numerics", "HR")].tolist() == [0.0, 0.0, 3.0]
    # waveforms first, most hours first within a kind
    assert list(hours.index) == [("waveform", "ABP"), ("waveform", "II"), ("numerics", "HR")]


@pytest.mark.parametrize(
    "draw",
    [
        lambda: figures.coverage_figure(_records()),
        lambda: figures.feature_distributions_figure(_records()),
        lambda: figures.problems_figure(_errors(("MissingDataFile", "error"))),
    ],
    ids=["coverage", "features", "problems"],
)
def test_figures_are_reproducible_pngs(draw) -> None:
    first, second = _png(draw()), _png(draw())
    assert first.startswith(b"\x89PNG") and first == second


def test_coverage_draws_one_map_per_kind_with_the_hours() -> None:
    fig = figures.coverage_figure(_records())
    maps = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title(loc="left") for ax in maps] == [
        "waveform (all signals), hours",
        "numerics (all signals), hours",
    ]
    shown = maps[0].images[0].get_array()
    assert shown.filled(0).tolist() == [[0.0, 2.0, 0.0], [0.75, 1.0, 0.0]]
    assert shown.mask.tolist() == [[True, False, True], [False, False, True]]


def test_feature_panels_box_the_records_percentiles() -> None:
    fig = figures.feature_distributions_figure(_records(), top=2)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().splitlines()[0] for ax in panels] == ["II · waveform", "ABP · waveform"]
    assert "3 records, 90% valid" in panels[0].get_title()
    dots = [line for line in panels[0].lines if line.get_marker() == "."]
    assert [sorted(d.get_ydata().tolist()) for d in dots] == [
        [-3.0, -2.0, -1.0],
        [0.0, 1.0, 2.0],
        [1.0, 2.0, 3.0],
    ]


def test_problem_bars_count_each_type_and_severity() -> None:
    fig = figures.problems_figure(
        _errors(
            ("TruncatedDataFile", "error"),
            ("TruncatedDataFile", "warning"),
            ("TruncatedDataFile", "error"),
            ("MissingSegment", "error"),
        )
    )
    (ax,) = fig.axes
    assert ax.get_title(loc="left") == "Problems by type (4 in total)"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    widths = {
        (severity.get_label(), label): patch.get_width()
        for severity in ax.containers
        for label, patch in zip(labels, severity.patches, strict=True)
    }
    assert widths == {
        ("error", "MissingSegment"): 1,
        ("error", "TruncatedDataFile"): 2,
        ("warning", "MissingSegment"): 0,
        ("warning", "TruncatedDataFile"): 1,
    }


@pytest.mark.parametrize(
    ("draw", "says"),
    [
        (lambda: figures.coverage_figure(RECORD_FEATURES.frame()), "No records"),
        (lambda: figures.feature_distributions_figure(RECORD_FEATURES.frame()), "No records"),
        (lambda: figures.problems_figure(EXTRACTION_ERRORS.frame()), "No problems"),
    ],
)
def test_empty_tables_give_a_figure_that_says_why(draw, says: str) -> None:
    fig = draw()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(says in t for t in texts)
    assert _png(fig).startswith(b"\x89PNG")


def _summary(**totals) -> dict:
    base = {
        "records": 20,
        "segments": 80,
        "segments_ok": 78,
        "segments_failed": 2,
        "problems": 3,
        "dat_bytes": 12_500_000,
        "seconds": 2.5,
    }
    return {
        "totals": {**base, **totals},
        "missing_groups": ["35"],
        "groups": [{"group": g} for g in ("30", "31", "35")],
    }


def _stats() -> pd.DataFrame:
    hours = [("waveform", "II", 1.5), ("waveform", "ABP", 0.25), ("numerics", "HR", 10.0)]
    return SIGNAL_STATS.frame(
        {
            "kind": kind,
            "signal": signal,
            "records": 1,
            "groups": 1,
            "segments": 1,
            "total_hours": total,
            "valid_fraction": 1.0,
        }
        for kind, signal, total in hours
    )


def test_report_line_has_every_figure_in_a_stable_format() -> None:
    errors = _errors(
        ("TruncatedDataFile", "error"),
        ("MissingSegment", "error"),
        ("TruncatedDataFile", "warning"),
    )
    report = build_report(_summary(), errors, _stats())
    assert report.line() == (
        "Run report: 3 groups (1 missing), 20 records; segments 78 ok, 2 failed; "
        "problems: 3 (TruncatedDataFile 2, MissingSegment 1); "
        "signal hours 1.75 waveform, 10.00 numerics; 12.5 MB at 5.0 MB/s."
    )
    assert LINE.match(report.line())
    assert report.problems_by_severity == {"error": 2, "warning": 1}


def test_report_line_of_a_clean_run_and_of_a_run_without_time() -> None:
    report = build_report(
        _summary(problems=0, seconds=0.0), EXTRACTION_ERRORS.frame(), SIGNAL_STATS.frame()
    )
    line = report.line()
    assert "problems: none;" in line and "at n/a MB/s" in line
    assert "signal hours 0.00 waveform, 0.00 numerics" in line
    assert LINE.match(line)


def test_report_reads_errors_as_loaded_from_csv() -> None:
    """The node gets extraction_errors back from CSV: numbers where strings were written."""
    loaded = pd.read_csv(io.StringIO(_errors(("MissingDataFile", "error")).to_csv(index=False)))
    assert build_report(_summary(), loaded, _stats()).problems_by_type == {"MissingDataFile": 1}


def test_report_page_embeds_the_figures_and_escapes_text() -> None:
    report = RunReport(
        groups=1,
        missing_groups=(),
        records=1,
        segments_ok=1,
        segments_failed=0,
        problems_by_type={"<script>Odd</script>": 1},
    )
    png = _png(figures.problems_figure(_errors(("X", "error"))))
    page = render_html(report, {"Problems by type": png})
    assert page.startswith("<!DOCTYPE html>") and report.line().split(";")[0] in page
    assert "<script>" not in page and "&lt;script&gt;Odd&lt;/script&gt;" in page
    (embedded,) = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert base64.b64decode(embedded) == png


def test_report_node_logs_the_line_and_returns_the_page(caplog) -> None:
    png = _png(figures.problems_figure(EXTRACTION_ERRORS.frame()))
    with caplog.at_level(logging.INFO, logger=nodes.logger.name):
        page = nodes.write_run_report(
            run_summary=_summary(),
            extraction_errors=EXTRACTION_ERRORS.frame(),
            signal_stats=_stats(),
            coverage_png=png,
            feature_distributions_png=png,
            problems_png=png,
        )
    (message,) = [r.getMessage() for r in caplog.records if r.name == nodes.logger.name]
    assert LINE.match(message)
    assert message in page and page.count("data:image/png;base64,") == 3


def _windows() -> pd.DataFrame:
    minutes = np.arange(5)
    frame = pd.DataFrame(
        {
            "group": ["30"] * 5 + ["31"] * 5,
            "record": ["a"] * 5 + ["b"] * 5,
            "window_offset_s": np.concatenate([minutes, minutes]) * 60.0,
            "hr_median_bpm": [70, 71, np.nan, 73, 74, 80, 81, 82, 83, 84],
            "monitor_hr": [70, 70, 72, 72, 74, 80, 80, 82, 82, 84],
            "sbp_mmhg": [120.0] * 10,
            "monitor_abpsys": [118.0] * 10,
        }
    )
    return frame


def test_clinical_figure_puts_derived_values_beside_the_monitor() -> None:
    windows = _windows()
    assert figures.best_covered_record(windows) == ("31", "b")  # 5 complete minutes vs 4
    fig = figures.clinical_vs_monitor_figure(windows, "30", "a")
    axes = [ax for ax in fig.axes if ax.lines]
    assert [ax.get_ylabel() for ax in axes] == ["Heart rate (bpm)", "Systolic pressure (mmHg)"]
    monitor, derived = axes[0].lines
    assert monitor.get_xdata().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert monitor.get_ydata().tolist() == [70, 70, 72, 72, 74]
    np.testing.assert_array_equal(derived.get_ydata(), [70, 71, np.nan, 73, 74])


def test_clinical_figure_without_its_columns_says_what_it_needs() -> None:
    bare = _windows()[["group", "record", "window_offset_s"]]
    assert figures.best_covered_record(bare) is None
    fig = figures.clinical_vs_monitor_figure(bare, "30", "a")
    assert "hr_median_bpm" in fig.axes[0].texts[0].get_text()

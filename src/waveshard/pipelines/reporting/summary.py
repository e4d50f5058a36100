"""The run report: what a person reads first, as one log line and as a small HTML page.

The line's format is stable (scripts and tests match it):

    Run report: <G> groups, <R> records; segments <ok> ok, <failed> failed;
    problems: <none | N (Type n, ...)>; signal hours <w> waveform, <n> numerics;
    <MB> MB at <MB/s> MB/s.

all on one line. Signal hours add up every signal's hours (two channels recorded
for an hour count two). MB/s is the ``.dat`` bytes over the groups' extraction
seconds added up.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from waveshard.contract import NUMERICS, WAVEFORM

PREFIX = "Run report:"


@dataclass(frozen=True)
class RunReport:
    """The figures of one run, from the combined outputs."""

    groups: int
    missing_groups: tuple[str, ...]
    records: int
    segments_ok: int
    segments_failed: int
    problems_by_type: dict[str, int] = field(default_factory=dict)
    problems_by_severity: dict[str, int] = field(default_factory=dict)
    signal_hours: dict[str, float] = field(default_factory=dict)
    megabytes: float = 0.0
    seconds: float = 0.0

    @property
    def problems(self) -> int:
        return sum(self.problems_by_type.values())

    @property
    def megabytes_per_second(self) -> float | None:
        return self.megabytes / self.seconds if self.seconds > 0 else None

    def line(self) -> str:
        """The report as one log line (format in the module docstring)."""
        missing = f" ({len(self.missing_groups)} missing)" if self.missing_groups else ""
        if self.problems:
            kinds = ", ".join(f"{name} {count}" for name, count in self.problems_by_type.items())
            problems = f"{self.problems} ({kinds})"
        else:
            problems = "none"
        rate = self.megabytes_per_second
        speed = "n/a" if rate is None else f"{rate:.1f}"
        return (
            f"{PREFIX} {self.groups} groups{missing}, {self.records} records; "
            f"segments {self.segments_ok} ok, {self.segments_failed} failed; "
            f"problems: {problems}; "
            f"signal hours {self.signal_hours.get(WAVEFORM, 0.0):.2f} waveform, "
            f"{self.signal_hours.get(NUMERICS, 0.0):.2f} numerics; "
            f"{self.megabytes:.1f} MB at {speed} MB/s."
        )


def build_report(
    run_summary: Mapping[str, Any],
    extraction_errors: pd.DataFrame,
    signal_stats: pd.DataFrame,
) -> RunReport:
    """The report of a run from ``run_summary``, ``extraction_errors`` and ``signal_stats``."""
    totals = run_summary["totals"]
    # most frequent first, names alphabetical among equals
    by_type = (
        extraction_errors["error_type"].astype(str).value_counts().sort_index()
        if len(extraction_errors)
        else pd.Series(dtype="int64")
    ).sort_values(ascending=False, kind="stable")
    by_severity = (
        extraction_errors["severity"].astype(str).value_counts().sort_index()
        if len(extraction_errors)
        else pd.Series(dtype="int64")
    )
    hours = (
        signal_stats.astype({"kind": str}).groupby("kind")["total_hours"].sum()
        if len(signal_stats)
        else pd.Series(dtype="float64")
    )
    return RunReport(
        groups=len(run_summary.get("groups", [])),
        missing_groups=tuple(str(g) for g in run_summary.get("missing_groups", [])),
        records=int(totals["records"]),
        segments_ok=int(totals["segments_ok"]),
        segments_failed=int(totals["segments_failed"]),
        problems_by_type={str(k): int(v) for k, v in by_type.items()},
        problems_by_severity={str(k): int(v) for k, v in by_severity.items()},
        signal_hours={str(k): float(v) for k, v in hours.items()},
        megabytes=int(totals["dat_bytes"]) / 1e6,
        seconds=float(totals["seconds"]),
    )


_STYLE = """
body { font-family: sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
td, th { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: right; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; margin-bottom: 1.5rem; }
code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def _table(rows: list[tuple[str, str]], header: tuple[str, str] | None = None) -> str:
    head = (
        f"<tr><th>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>\n"
        if header
        else ""
    )
    body = "".join(
        f"<tr><td>{html.escape(str(a))}</td><td>{html.escape(str(b))}</td></tr>\n" for a, b in rows
    )
    return f"<table>\n{head}{body}</table>"


def _image(caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">\n'


def render_html(
    report: RunReport, figures: Mapping[str, bytes], problems_png: bytes | None = None
) -> str:
    """A self-contained HTML page: the line, the totals, problems by type, the figures.

    Images are embedded (no file beside the page is needed, so the page can be
    fetched alone from S3).

    Args:
        report: The run's report.
        figures: Caption → PNG bytes, each under its caption, in this order.
        problems_png: The problems figure, shown with the problems table.
    """
    rate = report.megabytes_per_second
    totals = [
        ("groups", str(report.groups)),
        ("missing group folders", ", ".join(report.missing_groups) or "none"),
        ("records", str(report.records)),
        ("segments extracted", str(report.segments_ok)),
        ("segments failed", str(report.segments_failed)),
        ("problems", str(report.problems)),
        *((f"problems of severity {k}", str(v)) for k, v in report.problems_by_severity.items()),
        ("waveform signal hours", f"{report.signal_hours.get(WAVEFORM, 0.0):.2f}"),
        ("numerics signal hours", f"{report.signal_hours.get(NUMERICS, 0.0):.2f}"),
        (".dat read (MB)", f"{report.megabytes:.1f}"),
        ("extraction seconds (all groups)", f"{report.seconds:.1f}"),
        ("MB/s", "n/a" if rate is None else f"{rate:.1f}"),
    ]
    problems = (
        _table(list(report.problems_by_type.items()), ("error_type", "problems"))
        if report.problems
        else "<p>None: every segment header found was extracted.</p>"
    )
    if problems_png is not None:
        problems += "\n" + _image("Problems by type", problems_png)
    images = "".join(
        f"<h2>{html.escape(caption)}</h2>\n{_image(caption, png)}"
        for caption, png in figures.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>waveshard run report</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
        "<h1>waveshard run report</h1>\n"
        f"<p><code>{html.escape(report.line())}</code></p>\n"
        f"<h2>Totals</h2>\n{_table(totals)}\n"
        f"<h2>Problems by type</h2>\n{problems}\n"
        "<p>Every problem is a row of <code>08_reporting/extraction_errors.parquet</code> "
        "(and its <code>.csv</code> copy); per-signal totals are in "
        "<code>08_reporting/signal_stats.parquet</code>.</p>\n"
        f"{images}</body>\n</html>\n"
    )

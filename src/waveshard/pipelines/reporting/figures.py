"""The run's figures, drawn from the published tables with matplotlib (no Kedro).

Each function takes tables as the pipeline publishes them and returns a
:class:`matplotlib.figure.Figure` built without pyplot, so nodes keep no global
figure state and the same call works in a notebook. The drawings are
deterministic: rows and columns are sorted, nothing is random, and the size of
a figure is bounded whatever the size of the archive (at most ``top`` signals).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from waveshard.contract import NUMERICS, WAVEFORM

#: Pixels per inch of every figure (PNG size = inches × DPI).
DPI = 100
#: Colour of cells and panels without data.
EMPTY = "#eeeeee"
#: The spread drawn per signal: low, middle and high record-level percentiles.
SPREAD = ("p05", "p50", "p95")


def _message(text: str, title: str, size: tuple[float, float] = (7, 2.2)) -> Figure:
    """A figure that says why there is nothing to draw."""
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    return fig


def hours_by_signal_and_group(record_features: pd.DataFrame) -> pd.DataFrame:
    """Hours of each ``kind``/``signal`` per group (columns), most hours first.

    A record contributes the duration over which its segments carry the signal,
    so for waveforms these are channel-hours, not hours of patient time.
    """
    if record_features.empty:
        return pd.DataFrame()
    hours = (
        record_features.assign(hours=record_features["duration_s"] / 3600)
        .astype({"group": str, "kind": str, "signal": str})
        .pivot_table(
            index=["kind", "signal"], columns="group", values="hours", aggfunc="sum", fill_value=0
        )
    )
    order = hours.sum(axis=1).rename("total").reset_index()
    order = order.sort_values(["kind", "total", "signal"], ascending=[False, False, True])
    return hours.loc[list(zip(order["kind"], order["signal"], strict=True))].sort_index(axis=1)


def coverage_figure(record_features: pd.DataFrame, top: int = 20) -> Figure:
    """Heat maps of hours per signal (rows) and group (columns), waveforms and numerics.

    Args:
        record_features: The combined record features.
        top: At most this many signals per kind (those with the most hours).
    """
    title = "Coverage: signal time per group"
    hours = hours_by_signal_and_group(record_features)
    if hours.empty:
        return _message("No records were extracted, so there is no coverage to show.", title)
    kinds = [k for k in (WAVEFORM, NUMERICS) if k in hours.index.get_level_values("kind")]
    tables = {kind: hours.loc[kind].head(top) for kind in kinds}
    rows = max(len(t) for t in tables.values())
    width = 2.6 + 0.55 * hours.shape[1]
    fig = Figure(
        figsize=(width * len(kinds) + 1.2, 1.4 + 0.3 * rows), dpi=DPI, layout="constrained"
    )
    fig.suptitle(title, x=0.01, ha="left")
    for ax, kind in zip(fig.subplots(1, len(kinds), squeeze=False)[0], kinds, strict=True):
        table = tables[kind]
        total = len(hours.loc[kind])
        # Short waveform segments read better in minutes than as 0.0004 h.
        unit, scale = ("hours", 1.0) if table.to_numpy().max() >= 1 else ("minutes", 60.0)
        table = table * scale
        values = np.ma.masked_equal(table.to_numpy(dtype=float), 0.0)
        image = ax.imshow(values, aspect="auto", cmap=_colormap("viridis"), interpolation="nearest")
        upright = max(len(str(c)) for c in table.columns) <= 3  # group ids like "30"
        ax.set_xticks(range(table.shape[1]), table.columns, rotation=0 if upright else 90)
        ax.set_yticks(range(table.shape[0]), table.index)
        ax.set_xlabel("group")
        shown = f"top {len(table)} of {total} signals" if total > len(table) else "all signals"
        ax.set_title(f"{kind} ({shown}), {unit}", loc="left", fontsize="medium")
        if table.size <= 400:  # numbers stay legible on small grids only
            peak = float(values.max()) if values.count() else 0.0
            for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
                if value > 0:
                    colour = "black" if value > 0.6 * peak else "white"
                    ax.text(j, i, _short(value), ha="center", va="center", fontsize=7, c=colour)
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def _colormap(name: str) -> Colormap:
    return colormaps[name].with_extremes(bad=EMPTY)


def _short(value: float) -> str:
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 0.1 else "<0.1"


def signals_by_records(record_features: pd.DataFrame, top: int) -> list[tuple[str, str, str]]:
    """The ``(kind, signal, units)`` keys seen in the most records, waveforms first."""
    counts = (
        record_features.astype({"kind": str, "signal": str, "units": str})
        .groupby(["kind", "signal", "units"])
        .size()
        .rename("records")
        .reset_index()
        .sort_values(["kind", "records", "signal", "units"], ascending=[False, False, True, True])
    )
    return list(counts[["kind", "signal", "units"]].head(top).itertuples(index=False, name=None))


def feature_distributions_figure(
    record_features: pd.DataFrame, top: int = 12, columns: int = 4
) -> Figure:
    """One panel per signal: the record-level p05, median and p95 across records.

    Each box summarizes one statistic over the records that carry the signal
    (every dot is a record), in the signal's physical units.

    Args:
        record_features: The combined record features.
        top: At most this many signals (those seen in the most records).
        columns: Panels per row.
    """
    title = "Record-level features per signal (each dot is a record)"
    keys = signals_by_records(record_features, top) if not record_features.empty else []
    if not keys:
        return _message("No records were extracted, so there are no features to show.", title)
    columns = min(columns, len(keys))
    rows = -(-len(keys) // columns)
    height = 2.4 * rows + 0.5
    fig = Figure(figsize=(2.9 * columns, height), dpi=DPI)
    fig.suptitle(title, x=0.01, ha="left")
    # Fixed margins: a constrained layout of many panels costs more than drawing them.
    fig.subplots_adjust(
        left=0.07,
        right=0.99,
        bottom=0.3 / height,
        top=1 - 0.75 / height,
        wspace=0.35,
        hspace=0.55,
    )
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    table = record_features.astype({"kind": str, "signal": str, "units": str})
    for ax, (kind, signal, units) in zip(axes, keys, strict=False):
        chosen = table[(table["kind"] == kind) & (table["signal"] == signal)]
        chosen = chosen[chosen["units"] == units]
        data = [chosen[c].dropna().to_numpy(dtype=float) for c in SPREAD]
        ax.boxplot(data, tick_labels=list(SPREAD), widths=0.5, showfliers=False)
        for position, values in enumerate(data, start=1):
            # Evenly spread dots instead of random jitter keep the picture reproducible.
            offsets = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else [0.0]
            ax.plot(position + np.asarray(offsets), values, ".", ms=3, alpha=0.6, c="C0")
        valid = 1 - float(chosen["missing_fraction"].mean())
        ax.set_title(
            f"{signal} · {kind}\n{len(chosen)} records, {valid:.0%} valid",
            fontsize="small",
        )
        ax.set_ylabel(units or "(no units)", fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in axes[len(keys) :]:
        ax.set_axis_off()
    return fig


def problems_figure(extraction_errors: pd.DataFrame) -> Figure:
    """Problems per ``error_type``, split by severity (errors lost the segment)."""
    title = "Problems by type"
    if extraction_errors.empty:
        return _message(
            "No problems: every segment header found was extracted, and nothing was odd.", title
        )
    counts = (
        extraction_errors.astype({"error_type": str, "severity": str})
        .groupby(["error_type", "severity"])
        .size()
        .unstack("severity", fill_value=0)
    )
    counts = counts.loc[counts.sum(axis=1).sort_values(kind="stable").index]
    fig = Figure(figsize=(7, 1.2 + 0.35 * len(counts)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    left = np.zeros(len(counts))
    colours = {"error": "#c0392b", "warning": "#e6a23c"}
    for severity in sorted(counts.columns, key=lambda s: (s != "error", s)):
        values = counts[severity].to_numpy()
        ax.barh(counts.index, values, left=left, label=severity, color=colours.get(severity))
        left += values
    for y, total in enumerate(left):
        ax.text(total, y, f" {int(total)}", va="center", fontsize="small")
    ax.set_xlabel("problems")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{title} ({int(left.sum())} in total)", loc="left")
    ax.legend(loc="lower right", fontsize="small")
    ax.margins(x=0.12)
    return fig


#: The clinical pipeline's per-minute columns beside the monitor numerics they
#: estimate: (panel title, derived from the waveforms, the monitor's numeric).
CLINICAL_PAIRS = (
    ("Heart rate (bpm)", "hr_median_bpm", "monitor_hr"),
    ("Systolic pressure (mmHg)", "sbp_mmhg", "monitor_abpsys"),
    ("Diastolic pressure (mmHg)", "dbp_mmhg", "monitor_abpdias"),
    ("Mean arterial pressure (mmHg)", "map_mmhg", "monitor_abpmean"),
)


def best_covered_record(window_features: pd.DataFrame) -> tuple[str, str] | None:
    """The ``(group, record)`` with the most windows holding a derived and a monitor HR."""
    _, derived, monitor = CLINICAL_PAIRS[0]
    if window_features.empty or not {derived, monitor} <= set(window_features.columns):
        return None
    both = window_features[window_features[derived].notna() & window_features[monitor].notna()]
    if both.empty:
        return None
    counts = both.astype({"group": str, "record": str}).groupby(["group", "record"]).size()
    counts = counts.reset_index(name="windows").sort_values(
        ["windows", "group", "record"], ascending=[False, True, True]
    )
    return str(counts.iloc[0]["group"]), str(counts.iloc[0]["record"])


def clinical_vs_monitor_figure(window_features: pd.DataFrame, group: str, record: str) -> Figure:
    """One record's per-window heart rate and pressures beside the monitor's numerics.

    Args:
        window_features: The clinical pipeline's window table (``group``, ``record``,
            ``window_offset_s`` and the columns of :data:`CLINICAL_PAIRS`).
        group: Patient group of the record.
        record: The record.
    """
    title = f"Group {group}, record {record}: derived per window vs the monitor"
    rows = window_features[
        (window_features["group"].astype(str) == str(group))
        & (window_features["record"].astype(str) == str(record))
    ].sort_values("window_offset_s")
    pairs = [p for p in CLINICAL_PAIRS if {p[1], p[2]} <= set(rows.columns)]
    if rows.empty or not pairs:
        needed = ", ".join(c for p in CLINICAL_PAIRS for c in p[1:])
        return _message(
            f"No windows to draw: the table needs rows of this record and the columns {needed}.",
            title,
        )
    minutes = rows["window_offset_s"].to_numpy(dtype=float) / 60
    fig = Figure(figsize=(10, 1.9 * len(pairs) + 0.6), dpi=DPI, layout="constrained")
    fig.suptitle(title, x=0.01, ha="left")
    axes = fig.subplots(len(pairs), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (label, derived, monitor) in zip(axes, pairs, strict=True):
        ax.plot(minutes, rows[monitor].to_numpy(dtype=float), "-", c="0.6", label="monitor")
        ax.plot(minutes, rows[derived].to_numpy(dtype=float), ".", ms=4, c="C3", label="derived")
        ax.set_ylabel(label, fontsize="small")
    axes[0].legend(loc="upper right", fontsize="small")
    axes[-1].set_xlabel("minutes from the record's start")
    return fig

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tour of a waveshard run
#
# What one `uv run kedro run` produced: how much signal each group holds, what the
# record-level features look like, which problems the run met, and one record from
# its master header down to a few seconds of its waveforms.
#
# Run the pipeline first, from the project folder (`uv run kedro run`), then open
# this notebook (`uv run --with jupyterlab jupyter lab notebooks/`). Everything is
# read through the Kedro catalog, so the same cells read another run's outputs
# after `%reload_kedro --params "output_root=..."` (or `--env aws` for S3).

# %%
# %load_ext kedro.ipython
# %matplotlib inline

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import wfdb
from IPython.display import display

from waveshard.pipelines.reporting import figures

pd.set_option("display.width", 160)

if not catalog.exists("run_summary"):
    raise RuntimeError(
        "This notebook reads a run's outputs, and there are none yet: run "
        "`uv run kedro run` in the project folder, then run this notebook again."
    )

# %% [markdown]
# ## The run in one line
#
# The same line ends the log of `kedro run`; `08_reporting/run_report.html` holds it
# with the figures below.

# %%
from waveshard.pipelines.reporting.summary import build_report

summary = catalog.load("run_summary")
errors = catalog.load("extraction_errors")
signal_stats = catalog.load("signal_stats")
print(build_report(summary, errors, signal_stats).line())
pd.DataFrame(summary["groups"]).set_index("group")

# %% [markdown]
# ## Coverage: how much signal each group holds
#
# Hours of each signal per patient group, summed over records (for waveforms these
# are channel-hours: two leads recorded for an hour count two).

# %%
record_features = catalog.load("record_features")
hours = figures.hours_by_signal_and_group(record_features)
display(hours.round(2))
figures.coverage_figure(record_features)

# %% [markdown]
# ## Record-level features per signal
#
# One row of `record_features` is one record's signal over all its segments, merged
# exactly. Here: how the records' medians and spreads are distributed, per signal.

# %%
medians = record_features.groupby(["kind", "signal", "units"])["p50"].describe()
display(medians[["count", "min", "50%", "max"]].rename(columns={"50%": "median"}).round(2))
figures.feature_distributions_figure(record_features)

# %% [markdown]
# ## Problems
#
# Every segment header found is either in `segment_features` or a row here.
# `severity` is `error` where nothing of the segment was extracted, `warning` where
# it was extracted but something was odd.

# %%
if errors.empty:
    print("No problems: every segment header found was extracted.")
else:
    by_type = errors.groupby(["error_type", "severity"]).size().rename("problems")
    display(by_type.to_frame())
    display(errors.groupby("error_type").head(2)[["group", "record", "segment", "message"]])
figures.problems_figure(errors)

# %% [markdown]
# ## One record, from its master header to its waveforms
#
# The record with the most waveform segments. Its master header lists the segments
# in time order; `~` marks a gap of that many samples (nothing was recorded), and
# `_layout` is a zero-length segment that only names the signals.

# %%
segment_features = catalog.load("segment_features")
waveforms = segment_features[segment_features["kind"] == "waveform"]
per_record = (
    waveforms.groupby(["group", "record", "record_dir"])["segment"]
    .nunique()
    .rename("segments")
    .reset_index()
)
chosen = per_record.sort_values(["segments", "group", "record"], ascending=[False, True, True])
group, record, folder = chosen.iloc[0][["group", "record", "record_dir"]]

# The record's raw folder as the catalog knows it; with --env aws (S3) this one
# folder is copied to a temporary folder, as wfdb reads local files only.
record_dir = catalog.get(f"group_{group}.raw_records").local_record_dir(folder)

master = wfdb.rdheader(str(record_dir / record))
starts = np.concatenate([[0], np.cumsum(master.seg_len)[:-1]])
timeline = pd.DataFrame(
    {
        "segment": master.seg_name,
        "start_s": starts / master.fs,
        "duration_s": np.asarray(master.seg_len) / master.fs,
    }
)
timeline["what"] = np.select(
    [timeline["segment"] == "~", timeline["segment"].str.endswith("_layout")],
    ["gap", "layout"],
    default="segment",
)
print(
    f"group {group}, record {record}: {master.sig_len / master.fs / 60:.1f} min from "
    f"{master.base_date} {master.base_time}, {len(timeline)} header entries"
)
display(timeline)

fig, ax = plt.subplots(figsize=(10, 1.8))
colours = {"segment": "tab:blue", "gap": "lightgrey"}
for row in timeline[timeline["what"] != "layout"].itertuples():
    ax.barh(
        0, row.duration_s / 60, left=row.start_s / 60, color=colours[row.what], edgecolor="white"
    )
ax.set_yticks([])
ax.set_xlabel("minutes from the record's start")
ax.set_title(f"{record}: segments (blue) and ~ gaps (grey)", loc="left")
plt.show()

# %%
# A few seconds of the first segment that holds samples, read with wfdb.
seconds = 5
first = timeline[(timeline["what"] == "segment") & (timeline["duration_s"] > 0)].iloc[0]
header = wfdb.rdheader(str(record_dir / first["segment"]))
signals = wfdb.rdrecord(
    str(record_dir / first["segment"]), sampto=min(header.sig_len, int(seconds * header.fs))
)
t = np.arange(signals.sig_len) / signals.fs
fig, axes = plt.subplots(
    signals.n_sig, 1, figsize=(10, 1.6 * signals.n_sig), sharex=True, squeeze=False
)
for ax, name, units, values in zip(
    axes[:, 0], signals.sig_name, signals.units, signals.p_signal.T, strict=True
):
    ax.plot(t, values, lw=0.8)  # invalid samples are NaN: they show as gaps
    ax.set_ylabel(f"{name}\n({units})")
axes[-1, 0].set_xlabel(f"seconds from the start of segment {first['segment']}")
fig.suptitle(
    f"{record}: the first {t[-1] if len(t) else 0:.1f} s of {first['segment']}", x=0.01, ha="left"
)
plt.show()

# %% [markdown]
# ## Clinical features next to the monitor's numerics
#
# The clinical pipeline writes `window_features` (one row per record and minute:
# heart rate and pressures detected from the waveforms, beside the monitor's own
# numerics). This section draws one patient's minutes when that table is in the
# catalog; without the clinical pipeline it says so and draws nothing.

# %%
if "window_features" in catalog:
    windows = catalog.load("window_features")
    patient = figures.best_covered_record(windows)
    if patient is None:
        print("window_features has no minute with both a detected and a monitor heart rate.")
    else:
        display(figures.clinical_vs_monitor_figure(windows, *patient))
else:
    print(
        "This section needs the clinical pipeline: `window_features` is not in this "
        "project's catalog yet, so there are no per-minute heart rates and pressures "
        "to compare with the monitor's numerics."
    )

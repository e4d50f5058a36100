"""Clinical features throughput against the profile extraction, in one run.

Generates a MIMIC-III-layout group of multi-signal format-80 records at 125 Hz
(ECG, ABP, PLETH, RESP, numerics; see ``benchmarks/clinical_data.py``), then
measures on the same files, one worker each:

- the profile extraction (the baseline: discovery, value counts, statistics);
- the clinical path end to end: discovery, placing segments on each record's
  timeline, decoding every segment to physical float arrays and computing the
  window features, record by record;

and prints MB/s of ``.dat`` per core (medians), their ratio, where the clinical
time goes (decode vs each signal's features), the peak traced memory of the
clinical path against the largest segment, and the CPU time of each stage per
frame on one 2-hour piece (the least disturbed figure on a shared machine). Run:

    uv run python -m benchmarks.bench_clinical [--records 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from benchmarks.bench_extract import waveshard_extract
from benchmarks.clinical_data import CHANNELS, FS, physical_signals, real_ecg, write_clinical_group
from waveshard.features.clinical import ClinicalSettings, abp_beats
from waveshard.features.clinical.abp import pulse_onsets_in_spans
from waveshard.features.clinical.ecg import r_peaks_in_spans
from waveshard.features.clinical.ppg import pleth_peaks_in_spans
from waveshard.features.clinical.quality import window_quality_counts
from waveshard.features.clinical.resp import breaths_in_spans
from waveshard.features.clinical.spans import finite_spans
from waveshard.pipelines.clinical.nodes import compute_windows, discover_records, plan_record_shards
from waveshard.wfdb_io.headers import parse_header
from waveshard.wfdb_io.samples import adc_range, decode_interleaved
from waveshard.wfdb_io.storage import GroupFolder


def clinical_extract(group_dir: Path, n_workers: int = 1) -> int:
    """The clinical pipeline's nodes on one group; returns the number of windows."""
    folder = GroupFolder.scan(group_dir.name, str(group_dir))
    found = discover_records(folder)
    plan = plan_record_shards(found, n_workers, 4)
    windows, errors, _summary = compute_windows(folder, found, plan, {}, {}, 3600)
    if len(errors):
        raise RuntimeError(f"benchmark data produced errors: {errors.head()}")
    return len(windows)


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def breakdown(group_dir: Path) -> list[tuple[str, float]]:
    """Seconds spent in each part of the clinical path (cProfile, cumulative)."""
    profile = cProfile.Profile()
    profile.runcall(clinical_extract, group_dir)
    stats = pstats.Stats(profile)
    parts = {
        "decode (read_physical)": "read_physical",
        "quality counts": "window_quality_counts",
        "ECG: R peaks": "r_peaks_in_spans",
        "ABP: onsets": "pulse_onsets_in_spans",
        "ABP: beats and quality rules": "abp_beats",
        "PLETH: peaks": "pleth_peaks_in_spans",
        "RESP: breaths": "breaths_in_spans",
        "window table": "table",
    }
    found = []
    for label, function in parts.items():
        seconds = sum(
            entry[3]
            for (_file, _line, name), entry in stats.stats.items()  # type: ignore[attr-defined]
            if name == function
        )
        found.append((label, seconds))
    found.append(("total (profiled)", stats.total_tt))  # type: ignore[attr-defined]
    return found


def stage_costs(hours: float = 2.0, repeats: int = 5) -> list[tuple[str, float]]:
    """CPU time per 4-signal frame of each stage, on one piece of ``hours`` (ns/frame).

    Process CPU time (not wall time), the least of ``repeats``: other processes
    on a shared machine slow it much less than they slow wall-clock timings.
    """
    rng = np.random.default_rng(1)
    n = int(hours * 3600 * FS)
    gains = np.array([c[2] for c in CHANNELS])
    baselines = np.array([c[3] for c in CHANNELS])
    digital = np.clip(np.round(physical_signals(rng, real_ecg(), n) * gains + baselines), -127, 127)
    raw = (digital + 128).astype(np.uint8).tobytes()
    lines = [f"bench 4 {FS} {n}"]
    lines += [f"b.dat 80 {g:g}({b})/{u} 8 0 {b} 0 0 {name}" for name, u, g, b in CHANNELS]
    signals = list(parse_header("\n".join(lines) + "\n").signals)
    ecg, abp, pleth, resp = channels = decode_interleaved(raw, signals, n)
    spans = [finite_spans(c) for c in channels]
    bounds = np.arange(0, n, 60 * FS)
    settings = ClinicalSettings()
    limits = [adc_range(s) for s in signals]
    kinds = ("ecg", "abp", "pleth", "resp")
    stages = {
        "decode (format 80 -> float64)": lambda: decode_interleaved(raw, signals, n),
        "runs of valid samples": lambda: [finite_spans(c) for c in channels],
        "quality counts": lambda: [
            window_quality_counts(
                c,
                bounds,
                FS,
                adc_range=limit,
                physiological_range=settings.ranges[kind],
                flat_min_s=settings.flat_min_s,
                spans=span,
            )
            for c, span, limit, kind in zip(channels, spans, limits, kinds, strict=True)
        ],
        "ECG: R peaks": lambda: r_peaks_in_spans(ecg, FS, spans[0]),
        "ABP: onsets, beats, quality rules": lambda: abp_beats(
            abp, FS, pulse_onsets_in_spans(abp, FS, spans[1]), None, spans[1]
        ),
        "PLETH: peaks": lambda: pleth_peaks_in_spans(pleth, FS, spans[2]),
        "RESP: breaths": lambda: breaths_in_spans(resp, FS, spans[3]),
    }
    costs = []
    for label, run in stages.items():
        times = []
        for _ in range(repeats):
            start = time.process_time()
            run()
            times.append(time.process_time() - start)
        costs.append((label, min(times) / n * 1e9))
    return costs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--max-segment-s", type=float, default=3 * 3600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="waveshard-bench-clinical-") as tmp:
        group_dir = Path(tmp, "39")
        write_clinical_group(group_dir, records=args.records, max_segment_s=args.max_segment_s)
        dats = sorted(group_dir.rglob("*.dat"), key=lambda p: p.stat().st_size)
        mb = sum(p.stat().st_size for p in dats) / 1e6
        largest = dats[-1].stat().st_size
        hours = sum(p.stat().st_size for p in dats if not p.name.endswith("n.dat")) / 4 / 125 / 3600
        print(
            f"data: {args.records} records, {len(dats)} .dat files, {mb:.1f} MB "
            f"({hours:.1f} h of 4-signal waveforms), largest segment {largest / 1e6:.1f} MB"
        )
        # Warm-up: page cache, imports, filter caches.
        waveshard_extract(group_dir, 1)
        clinical_extract(group_dir)
        # Alternate the two so that drifts of the machine's speed hit both alike.
        profile_times, clinical_times = [], []
        for _ in range(args.repeats):
            profile_times += timed(lambda: waveshard_extract(group_dir, 1), 1)
            clinical_times += timed(lambda: clinical_extract(group_dir), 1)
        profile_s = statistics.median(profile_times)
        clinical_s = statistics.median(clinical_times)
        tracemalloc.start()
        clinical_extract(group_dir)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        parts = breakdown(group_dir)

    print(f"{'implementation (1 worker)':<34}{'seconds':>9}{'MB/s/core':>11}")
    print(f"{'profile extraction (baseline)':<34}{profile_s:>9.2f}{mb / profile_s:>11.1f}")
    print(f"{'clinical features, end to end':<34}{clinical_s:>9.2f}{mb / clinical_s:>11.1f}")
    print(f"clinical / profile time: {clinical_s / profile_s:.1f}x")
    print(
        f"peak traced memory, clinical: {peak / 1e6:.1f} MB = {peak / largest:.1f}x the "
        "largest segment's .dat"
    )
    print("where the clinical time goes (cProfile, cumulative seconds):")
    for label, seconds in parts:
        print(f"  {label:<32}{seconds:>8.2f}")
    costs = stage_costs()
    total = sum(ns for _, ns in costs)
    print("CPU time per frame of 4 signals at 125 Hz, one 2-hour piece (least of 5):")
    for label, ns in costs:
        print(f"  {label:<36}{ns:>7.1f} ns")
    print(f"  {'total':<36}{total:>7.1f} ns = {4 / total * 1e3:.1f} MB/s of .dat per core")


if __name__ == "__main__":
    main()

"""Extraction throughput: waveshard vs a seed-style implementation, in one run.

Generates a skewed MIMIC-III-layout group (format 80, 125 Hz), then measures on
the same files:

- waveshard's extraction (header-driven discovery, LPT micro-shards, value
  counts) with 1 and with N workers;
- the seed-style implementation (``wfdb.rdrecord`` physical float64 per record +
  ``pandas.DataFrame.describe()``, records cut into equal-count chunks, one
  joblib task per chunk) with 1 and with N workers;

and prints MB/s of ``.dat`` per core (medians), the ratios, the machine's own
ceiling for N-process scaling (pure CPU work), and peak traced memory per
worker against the largest segment. Run:

    uv run python -m benchmarks.bench_extract [--records 60] [--max-samples 2000000]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import joblib

from benchmarks.baseline_seed import seed_extract
from waveshard.datatools.sample import write_sample_tree
from waveshard.pipelines.profile.nodes import discover, extract, plan_shards
from waveshard.wfdb_io.storage import GroupFolder


def waveshard_extract(group_dir: Path, n_workers: int) -> int:
    """Discover, plan shards and extract one group; returns the number of segments done."""
    folder = GroupFolder.scan(group_dir.name, str(group_dir))
    found, _index = discover(folder)
    plan = plan_shards(found, n_workers, 4)
    _rows, _counts, problems, figures = extract(folder, found, plan, 3600)
    if len(problems) or found.problems:
        raise RuntimeError(f"benchmark data produced errors: {problems.head()}")
    return figures["segments_ok"]


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def machine_scaling(workers: int) -> float:
    """Speed-up of pure CPU work on ``workers`` processes: this machine's ceiling."""
    n = 3_000_000
    with joblib.Parallel(n_jobs=workers) as parallel:
        parallel(joblib.delayed(_spin)(n) for _ in range(workers))  # start the workers
        one = timed(lambda: _spin(n * workers), 3)
        many = timed(lambda: parallel(joblib.delayed(_spin)(n) for _ in range(workers)), 3)
    return one / many


def peak_traced(fn: Callable[[], object]) -> int:
    """Peak bytes allocated by Python and numpy while ``fn`` runs in this process."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--max-samples", type=int, default=2_000_000)
    parser.add_argument("--skew", type=float, default=1.5)
    parser.add_argument("--workers", type=int, default=joblib.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="waveshard-bench-") as tmp:
        summary = write_sample_tree(
            tmp,
            groups=["30"],
            records_per_group=args.records,
            max_segment_samples=args.max_samples,
            skew=args.skew,
        )
        group_dir = Path(tmp, "30")
        dats = sorted(group_dir.rglob("*.dat"), key=lambda p: p.stat().st_size)
        mb = sum(p.stat().st_size for p in dats) / 1e6
        largest = dats[-1].stat().st_size
        print(
            f"data: {summary.records} records, {summary.segments} segments, {mb:.1f} MB of "
            f".dat, largest segment {largest / 1e6:.1f} MB, median "
            f"{dats[len(dats) // 2].stat().st_size / 1e3:.1f} kB"
        )

        w = args.workers
        # Warm-up: fills the page cache for both and starts joblib's reusable workers.
        waveshard_extract(group_dir, w)
        # Alternate 1 and N workers so that drifts of the machine's speed hit both alike.
        ours: dict[int, list[float]] = {1: [], w: []}
        for _ in range(args.repeats):
            for n in (1, w):
                ours[n].append(timed(lambda n=n: waveshard_extract(group_dir, n), 1))
        ours_1, ours_n = statistics.median(ours[1]), statistics.median(ours[w])
        # The seed-style runs take minutes; once each is enough at that scale.
        seed_1 = timed(lambda: seed_extract(group_dir, 1), 1)
        seed_n = timed(lambda: seed_extract(group_dir, w), 1)
        ours_mem = peak_traced(lambda: waveshard_extract(group_dir, 1))
        seed_mem = peak_traced(lambda: seed_extract(group_dir, 1))

    def rate(seconds: float, workers: int) -> float:
        return mb / seconds / workers

    print(f"{'implementation':<34}{'seconds':>9}{'MB/s/core':>11}")
    for name, seconds, workers in [
        ("waveshard, 1 worker", ours_1, 1),
        (f"waveshard, {w} workers", ours_n, w),
        ("seed-style, 1 worker", seed_1, 1),
        (f"seed-style, {w} workers", seed_n, w),
    ]:
        print(f"{name:<34}{seconds:>9.2f}{rate(seconds, workers):>11.1f}")
    print(f"per-core speed-up, waveshard / seed-style (1 worker): {seed_1 / ours_1:.1f}x")
    print(f"per-core speed-up, waveshard / seed-style ({w} workers): {seed_n / ours_n:.1f}x")
    print(f"waveshard scaling, {w} workers vs 1: {ours_1 / ours_n:.2f}x")
    print(f"seed-style scaling, {w} workers vs 1: {seed_1 / seed_n:.2f}x")
    print(f"machine ceiling, pure CPU work on {w} processes vs 1: {machine_scaling(w):.2f}x")
    print(
        f"peak traced memory, waveshard 1 worker: {ours_mem / 1e6:.1f} MB "
        f"= {ours_mem / largest:.2f}x the largest segment"
    )
    print(
        f"peak traced memory, seed-style 1 worker: {seed_mem / 1e6:.1f} MB "
        f"= {seed_mem / largest:.2f}x the largest segment"
    )


if __name__ == "__main__":
    main()

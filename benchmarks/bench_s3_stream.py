"""Streaming from S3: one tree read from local disk, from moto's S3 server, and through a proxy.

The tree (``--tree real``, the default) is real MIMIC signals: the PhysioNet
records kept in ``tests/data/physionet`` (MIMIC-III waveform record 3000003 and
the matched-subset records of p000878, s00001 and s25047: format-80 waveforms,
format-16 numerics, multi-segment records with layouts, ``~`` gaps and their real
damage, which gives error rows) copied
``--copies`` times into one patient group, each copy under fresh record and patient
names (file names and header text renamed, the ``.dat`` bytes untouched). 160 copies
are 939 MB of ``.dat`` in 5,920 data files and 7,680 headers: 159 kB per data file,
far smaller than the archive's average (6.7 TB in 67,830 records), so the tree
weighs each request's fixed costs heavily. ``--tree generated`` writes the sample
generator's format-80 records instead (``--records 212``: ~900 MB, segments up to
8 MB), where bytes weigh more than requests.

Each run is the profile pipeline's work on one group, calling its nodes directly:
list the group, read and parse every header (``discover``), ``plan_shards``,
``extract`` every segment with joblib (the pipeline's default worker count) and
``report_group``; record summaries and saves are left out. Three sources, in the
same run and alternating so drifts of the machine hit all alike:

- ``local``: the tree on local disk;
- ``moto``: the tree uploaded to moto's S3 server (its own process, on 127.0.0.1);
- ``proxy``: the same bucket through ``tests/support/s3_proxy.py`` (its own
  process): at least ``--latency-ms`` to each response's first byte and
  ``--mbps`` per connection, S3's figures for one stream.

It prints medians of ``--repeats`` runs per source: seconds (discovery and
extraction), MB/s of ``.dat``, the ratio to local disk, and the CPU seconds used
by the benchmark's processes (this one and its workers), by moto and by the proxy,
since on a small machine the S3 server's work competes with the extraction for
the same cores. Outputs of every source are checked equal to local disk's.

    uv run python -m benchmarks.bench_s3_stream [--copies 160] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import logging
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import pandas as pd

from waveshard.pipelines.profile.nodes import discover, extract, plan_shards, report_group
from waveshard.wfdb_io.storage import GroupFolder

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PHYSIONET = PROJECT_ROOT / "tests" / "data" / "physionet"
FAKE_KEY, FAKE_SECRET, REGION = "AKIAWAVESHARDBENCH00", "waveshard-bench-secret", "us-east-1"
GROUP = "30"
BUCKET = "waveshard-bench"
PREFIX = "mimic3wdb/1.0"

# The real records as record folders: (folder, files) with names as in the test data.
_RECORDS = {
    "3000003": ["3000003_0003.hea", "3000003_0003.dat"],
    "p000878": "p000878",
    "s00001": "s00001",
    "s25047": "s25047",
}
# Names renamed in every copy: record ids and patient ids (files and header text).
_RECORD_IDS = ("3000003", "3234460", "3248903", "3269321", "3975656")
_PATIENT_IDS = ("p000878", "s00001", "s25047")


def write_real_tree(root: Path, copies: int) -> dict[str, int]:
    """``copies`` renamed copies of the real records under ``root/<GROUP>/``.

    Returns:
        Counts: ``records`` (folders), ``headers``, ``dat_files``, ``dat_bytes``.
    """
    group = root / GROUP
    counts = {"records": 0, "headers": 0, "dat_files": 0, "dat_bytes": 0}
    for copy in range(copies):
        names = {old: f"{4000000 + copy * 10 + i}" for i, old in enumerate(_RECORD_IDS)}
        names |= {
            old: f"{old[0]}{900000 + copy * 10 + i:06d}" for i, old in enumerate(_PATIENT_IDS)
        }
        pattern = re.compile("|".join(map(re.escape, names)))

        def rename(text: str, names: dict[str, str] = names, pattern=pattern) -> str:
            return pattern.sub(lambda m: names[m.group(0)], text)

        for folder, source in _RECORDS.items():
            files = [PHYSIONET / n for n in source] if isinstance(source, list) else None
            files = files or sorted((PHYSIONET / source).iterdir())
            target = group / rename(folder)
            target.mkdir(parents=True)
            counts["records"] += 1
            for path in files:
                dest = target / rename(path.name)
                if path.suffix == ".hea":
                    dest.write_text(rename(path.read_text(encoding="latin-1")), encoding="latin-1")
                    counts["headers"] += 1
                else:
                    shutil.copyfile(path, dest)
                    counts["dat_files"] += 1
                    counts["dat_bytes"] += path.stat().st_size
    return counts


def write_generated_tree(root: Path, records: int) -> dict[str, int]:
    """The sample generator's format-80 records (one skewed group, segments up to 8 MB)."""
    from waveshard.datatools.sample import write_sample_tree

    write_sample_tree(
        root, groups=[GROUP], records_per_group=records, max_segment_samples=2_000_000, skew=1.5
    )
    files = [p for p in (root / GROUP).rglob("*") if p.is_file()]
    dats = [p for p in files if p.suffix == ".dat"]
    return {
        "records": records,
        "headers": sum(p.suffix == ".hea" for p in files),
        "dat_files": len(dats),
        "dat_bytes": sum(p.stat().st_size for p in dats),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _s3_env(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=FAKE_KEY,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def start_moto() -> tuple[subprocess.Popen, str]:
    """moto's S3 server in a process of its own (its work shows as its own CPU)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_s3_env(dict(os.environ)),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("moto's server did not start within 60 s")


def start_proxy(upstream: str, latency_ms: float, mbps: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.s3_proxy",
            "--upstream",
            upstream,
            "--latency-ms",
            str(latency_ms),
            "--mbps",
            str(mbps),
        ],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != "READY":
        proc.kill()
        raise RuntimeError(f"the proxy did not start: {line}")
    return proc, line[1]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its live descendants (joblib's workers)."""
    total = 0.0
    for p in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError):  # a worker that ended meanwhile
            total += _cpu_seconds(p)
    return total


@dataclass
class Run:
    discover_s: float
    extract_s: float
    cpu_s: dict[str, float]
    segments: pd.DataFrame = field(repr=False)
    errors: pd.DataFrame = field(repr=False)

    @property
    def total_s(self) -> float:
        return self.discover_s + self.extract_s


def run_profile(url: str, storage_options: dict, workers: int, read_ahead_mb: float) -> Run:
    """List, discover and extract one group, as the profile pipeline's nodes do."""
    start = time.perf_counter()
    folder = GroupFolder.scan(GROUP, url, storage_options)
    found, _index = discover(folder)
    discovered = time.perf_counter()
    plan = plan_shards(found, workers, 4, parallel_min_mb=8)
    extra = {}
    # Also runs against the code before read-ahead existed (for the "before" figures).
    if "read_ahead_mb" in inspect.signature(extract).parameters:
        extra["read_ahead_mb"] = read_ahead_mb
    rows, _counts, problems, figures = extract(folder, found, plan, 3600, **extra)
    errors, _summary = report_group(folder, found, problems, figures)
    done = time.perf_counter()
    return Run(discovered - start, done - discovered, {}, rows, errors)


def _comparable(run: Run) -> tuple[pd.DataFrame, pd.DataFrame]:
    errors = run.errors.copy()
    # Error rows name the file where it lives: a bucket path or a local path.
    errors["path"] = errors["path"].str.split(f"/{GROUP}/").str[-1]
    keys = ["record", "segment"]
    return (
        run.segments.sort_values([*keys, "channel"]).reset_index(drop=True),
        errors.sort_values([*keys, "error_type", "path"]).reset_index(drop=True),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", choices=("real", "generated"), default="real")
    parser.add_argument("--copies", type=int, default=160, help="of the real records")
    parser.add_argument("--records", type=int, default=212, help="of the generated tree")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=joblib.cpu_count())
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--mbps", type=float, default=90.0)
    parser.add_argument("--read-ahead-mb", type=float, default=64.0)
    parser.add_argument("--sources", default="local,moto,proxy")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sys.stdout.reconfigure(line_buffering=True)  # lines show as they come, also in a file
    sources = args.sources.split(",")
    os.environ.update(_s3_env(dict(os.environ)))

    with tempfile.TemporaryDirectory(prefix="waveshard-stream-") as tmp:
        root = Path(tmp, "raw")
        if args.tree == "real":
            counts = write_real_tree(root, args.copies)
            what = f"{args.copies} copies of the real records in tests/data/physionet"
        else:
            counts = write_generated_tree(root, args.records)
            what = "the sample generator's format-80 records, skewed sizes"
        mb = counts["dat_bytes"] / 1e6
        print(
            f"tree: {what} = {counts['records']} record folders, {counts['headers']} headers, "
            f"{counts['dat_files']} data files, {mb:.1f} MB of .dat, "
            f"{counts['dat_bytes'] / counts['dat_files'] / 1e3:.0f} kB per data file"
        )
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        moto, moto_url = start_moto()
        proxy = None
        try:
            from waveshard.datatools.upload import upload_tree

            options = {"key": FAKE_KEY, "secret": FAKE_SECRET, "endpoint_url": moto_url}
            import boto3

            boto3.client(
                "s3",
                endpoint_url=moto_url,
                aws_access_key_id=FAKE_KEY,
                aws_secret_access_key=FAKE_SECRET,
                region_name=REGION,
            ).create_bucket(Bucket=BUCKET)
            began = time.perf_counter()
            upload_tree(
                source=root, dest=f"s3://{BUCKET}/{PREFIX}", storage_options=options, workers=16
            )
            print(f"uploaded to moto in {time.perf_counter() - began:.0f} s")
            proxy, proxy_url = start_proxy(moto_url, args.latency_ms, args.mbps)
            targets: dict[str, tuple[str, dict]] = {
                "local": (str(root / GROUP), {}),
                "moto": (f"s3://{BUCKET}/{PREFIX}/{GROUP}", options),
                "proxy": (
                    f"s3://{BUCKET}/{PREFIX}/{GROUP}",
                    {**options, "endpoint_url": proxy_url},
                ),
            }
            pids = {"ours": os.getpid(), "moto": moto.pid, "proxy": proxy.pid}
            runs: dict[str, list[Run]] = {s: [] for s in sources}

            def measured(source: str) -> Run:
                before = {k: tree_cpu_seconds(p) for k, p in pids.items()}
                url, opts = targets[source]
                run = run_profile(url, opts, args.workers, args.read_ahead_mb)
                run.cpu_s = {k: tree_cpu_seconds(p) - before[k] for k, p in pids.items()}
                print(f"  {source}: {run.discover_s:.1f} + {run.extract_s:.1f} s")
                return run

            # Warm-up: the page cache, joblib's workers, connections and moto's own caches.
            for source in sources:
                measured(source)
            for _ in range(args.repeats):
                for source in sources:
                    runs[source].append(measured(source))
        finally:
            if proxy is not None:
                proxy.stdin.close()
                proxy.wait(timeout=30)
            moto.terminate()
            moto.wait(timeout=30)

    reference = _comparable(runs[sources[0]][0])
    for source in sources[1:]:
        for run in runs[source]:
            got = _comparable(run)
            pd.testing.assert_frame_equal(got[0], reference[0], check_exact=True)
            pd.testing.assert_frame_equal(got[1], reference[1], check_exact=True)
    print(f"outputs: equal across {', '.join(sources)} in every run")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _report(runs, sources, mb, args)


def _median(runs: list[Run], value: Callable[[Run], float]) -> float:
    return statistics.median(value(r) for r in runs)


def _report(runs: dict[str, list[Run]], sources: list[str], mb: float, args) -> None:
    print(
        f"workers: {args.workers}, read-ahead: {args.read_ahead_mb:g} MB per worker, proxy: "
        f"{args.latency_ms:g} ms to first byte, {args.mbps:g} MB/s per connection; "
        f"medians of {args.repeats} runs"
    )
    header = (
        f"{'source':<8}{'total s':>9}{'discover s':>12}{'extract s':>11}{'MB/s':>8}"
        f"{'vs local':>10}{'cpu ours':>10}{'cpu moto':>10}{'cpu proxy':>11}"
    )
    print(header)
    local = _median(runs[sources[0]], lambda r: r.total_s)
    for source in sources:
        rs = runs[source]
        total = _median(rs, lambda r: r.total_s)
        print(
            f"{source:<8}{total:>9.2f}{_median(rs, lambda r: r.discover_s):>12.2f}"
            f"{_median(rs, lambda r: r.extract_s):>11.2f}{mb / total:>8.1f}"
            f"{local / total:>9.0%} "
            + "".join(f"{_median(rs, lambda r, k=k: r.cpu_s[k]):>10.1f}" for k in ("ours", "moto"))
            + f"{_median(rs, lambda r: r.cpu_s['proxy']):>11.1f}"
        )


if __name__ == "__main__":
    main()

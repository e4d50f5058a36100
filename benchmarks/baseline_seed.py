"""The seed-style extraction that waveshard is benchmarked against.

This is the straightforward approach: read each record whole with
``wfdb.rdrecord`` (physical float64, multi-segment records flattened to one
signal matrix with NaN in gaps), run ``pandas.DataFrame.describe`` on it, and
spread records over ``joblib`` workers in equal-count chunks. It is kept
deliberately naive (no header pre-pass, no streaming, no size-aware sharding)
so the comparison measures what waveshard changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import wfdb
from joblib import Parallel, delayed

__all__ = ["discover_records", "seed_extract"]


def discover_records(raw_group_dir: str | Path) -> list[tuple[str, str]]:
    """List the WFDB records of one group directory, seed style.

    Args:
        raw_group_dir: A MIMIC-III group directory (``.../30``) whose
            subdirectories are record folders.

    Returns:
        ``(record name, header path without .hea)`` pairs, sorted: the master
        header ``<rec>/<rec>`` where present, otherwise every lone
        single-segment header in the folder; plus the numerics record
        ``<rec>/<rec>n`` where present.
    """
    found: list[tuple[str, str]] = []
    for folder in sorted(p for p in Path(raw_group_dir).iterdir() if p.is_dir()):
        rec = folder.name
        numerics = folder / f"{rec}n.hea"
        if (folder / f"{rec}.hea").is_file():
            found.append((rec, str(folder / rec)))
        else:
            for hea in sorted(folder.glob("*.hea")):
                if hea.stem.endswith("_layout") or hea == numerics:
                    continue
                found.append((hea.stem, str(hea.with_suffix(""))))
        if numerics.is_file():
            found.append((f"{rec}n", str(folder / f"{rec}n")))
    return found


def _describe_record(name: str, path: str) -> pd.DataFrame:
    try:
        record = wfdb.rdrecord(path)
        if len(set(record.sig_name)) != len(record.sig_name):
            # describe() would work, but concatenating frames with repeated
            # column labels fails for the whole run.
            raise ValueError(f"repeated signal names {record.sig_name}")
        signal = record.p_signal
        if signal is None:
            signal = np.empty((0, len(record.sig_name)))
        stats = pd.DataFrame(signal, columns=record.sig_name).describe()
        stats.index.name = "stat"
        stats = stats.reset_index()
    except Exception as exc:  # one bad record must not stop the run
        stats = pd.DataFrame({"error": [f"{type(exc).__name__}: {exc}"]})
    stats.insert(0, "record", name)
    return stats


def _describe_chunk(chunk: list[tuple[str, str]]) -> list[pd.DataFrame]:
    return [_describe_record(name, path) for name, path in chunk]


def seed_extract(raw_group_dir: str | Path, n_jobs: int) -> pd.DataFrame:
    """Describe every record of a group directory, the seed way.

    Args:
        raw_group_dir: A MIMIC-III group directory (``.../30``).
        n_jobs: Number of joblib workers; the record list is cut into this
            many equal-count chunks, one task each.

    Returns:
        The concatenated ``describe()`` tables: columns ``record``, ``stat``
        (count, mean, std, min, 25%, 50%, 75%, max) and one column per signal
        name seen; records that failed have a single row with ``error`` set.
    """
    if n_jobs < 1:
        raise ValueError("n_jobs must be >= 1")
    records = discover_records(raw_group_dir)
    # Equal counts, not equal bytes: the naive split whose imbalance on skewed
    # groups the benchmark is meant to show.
    chunks = [
        [records[i] for i in idx]
        for idx in np.array_split(np.arange(len(records)), n_jobs)
        if len(idx)
    ]
    results = Parallel(n_jobs=n_jobs)(delayed(_describe_chunk)(chunk) for chunk in chunks)
    frames = [frame for chunk_frames in results for frame in chunk_frames]
    if not frames:
        return pd.DataFrame(columns=["record", "stat"])
    return pd.concat(frames, ignore_index=True)

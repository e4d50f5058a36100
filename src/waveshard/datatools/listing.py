"""A synthetic listing (``key,size``) of the MIMIC-III Waveform Database's published shape.

For sizing a run before any byte is uploaded: ``ProcessingJobRunner`` plans from a
listing as from a bucket (``--runner-params dry_run=true,listing=<file>``).

What is published (PhysioNet, mimic3wdb 1.0): 67,830 record sets, about 6.7 TB, in
ten group folders ``30`` … ``39`` (a record's folder name starts with its group's
two digits). What is assumed here, because only those totals are published:

* records spread evenly over the ten groups;
* a record's size is log-normal (sigma 1.2: most records are hours, a few are
  weeks), scaled so that the whole archive is 6.7 TB;
* a record folder holds a master header, a layout header, ``1 + LogNormal(2.9, 0.9)``
  segments (about 28 on average; a header and a ``.dat`` each, the bytes split at
  random among them), a numerics record (``n.hea`` + ``n.dat``, 2 % of the record's
  bytes) and a ``RECORDS`` file; every group folder has a ``RECORDS`` file too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The published shape of MIMIC-III Waveform Database v1.0.
ARCHIVE_RECORDS = 67_830
ARCHIVE_BYTES = 6.7e12
ARCHIVE_GROUPS = tuple(str(g) for g in range(30, 40))
#: Assumptions (see the module docstring).
RECORD_SIZE_SIGMA = 1.2
SEGMENTS_LOG_MEAN, SEGMENTS_LOG_SIGMA = 2.9, 0.9
NUMERICS_SHARE = 0.02


@dataclass(frozen=True)
class ListingSummary:
    """What a written listing holds."""

    records: int
    files: int
    bytes: int
    groups: int


def write_listing(path: Path, *, scale: float = 1.0, seed: int = 0) -> ListingSummary:
    """Write a synthetic archive listing as CSV (``key,size``; keys relative to the root).

    Args:
        path: CSV file to write.
        scale: Fraction of the archive (records and bytes), e.g. 0.001 for tests.
        seed: Seed of the random shape; the same seed writes the same file.

    Returns:
        Records, files, bytes and groups written.
    """
    rng = np.random.default_rng(seed)
    records = max(len(ARCHIVE_GROUPS), round(ARCHIVE_RECORDS * scale))
    weights = rng.lognormal(0.0, RECORD_SIZE_SIGMA, records)
    record_bytes = np.floor(weights / weights.sum() * ARCHIVE_BYTES * scale).astype(np.int64)
    segments = 1 + np.floor(rng.lognormal(SEGMENTS_LOG_MEAN, SEGMENTS_LOG_SIGMA, records)).astype(
        np.int64
    )
    per_group = np.array_split(np.arange(records), len(ARCHIVE_GROUPS))
    files = total = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["key", "size"])
        for group, members in zip(ARCHIVE_GROUPS, per_group, strict=True):
            numbers = rng.choice(100_000, size=len(members), replace=False)
            names = sorted(f"{group}{n:05d}" for n in numbers)
            out.writerow([f"{group}/RECORDS", 8 * len(names)])
            files += 1
            total += 8 * len(names)
            for name, index in zip(names, members, strict=True):
                rows = _record(rng, group, name, int(record_bytes[index]), int(segments[index]))
                out.writerows(rows)
                files += len(rows)
                total += sum(size for _, size in rows)
    return ListingSummary(records, files, total, len(ARCHIVE_GROUPS))


def _record(rng, group: str, name: str, size: int, segments: int) -> list[tuple[str, int]]:
    folder = f"{group}/{name}"
    numerics = int(size * NUMERICS_SHARE)
    shares = rng.dirichlet(np.ones(segments)) * (size - numerics)
    rows = [
        (f"{folder}/{name}.hea", 40 + 28 * segments),
        (f"{folder}/{name}_layout.hea", 320),
        (f"{folder}/RECORDS", 2 * len(name) + 3),
    ]
    for i, share in enumerate(shares, start=1):
        rows.append((f"{folder}/{name}_{i:04d}.hea", 250))
        rows.append((f"{folder}/{name}_{i:04d}.dat", int(share)))
    rows.append((f"{folder}/{name}n.hea", 420))
    rows.append((f"{folder}/{name}n.dat", numerics))
    return rows

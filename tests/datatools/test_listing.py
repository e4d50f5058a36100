"""The synthetic listing of the archive's published shape."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.support import cli
from waveshard.datatools.listing import ARCHIVE_BYTES, ARCHIVE_RECORDS, write_listing


def test_a_synthetic_listing_has_the_archives_shape_and_is_reproducible(tmp_path: Path) -> None:
    path = tmp_path / "listing.csv"
    summary = write_listing(path, scale=0.002, seed=7)
    table = pd.read_csv(path, dtype={"key": str})
    assert summary.records == round(ARCHIVE_RECORDS * 0.002)
    assert summary.bytes == table["size"].sum()
    assert abs(summary.bytes - ARCHIVE_BYTES * 0.002) < ARCHIVE_BYTES * 0.002 * 0.001
    groups = table["key"].str.split("/").str[0]
    assert sorted(groups.unique()) == [str(g) for g in range(30, 40)]
    records = table["key"].str.split("/").str[:2].str.join("/")[table["key"].str.count("/") == 2]
    assert records.nunique() == summary.records
    # a record folder's name starts with its group's digits; each has a master and numerics
    for record in records.unique()[:20]:
        group, name = record.split("/")
        assert name.startswith(group)
        assert f"{record}/{name}.hea" in set(table["key"])
        assert f"{record}/{name}n.dat" in set(table["key"])
    again = tmp_path / "again.csv"
    write_listing(again, scale=0.002, seed=7)
    assert again.read_bytes() == path.read_bytes()


def test_make_listing_writes_the_listing_it_reports(tmp_path: Path) -> None:
    out = tmp_path / "mimic3wdb-listing.csv"
    result = cli.run("waveshard", "make-listing", "--out", str(out), "--scale", "0.001")
    assert result.code == 0, result.output
    table = pd.read_csv(out, dtype={"key": str})
    assert f"Wrote {len(table):,} objects" in result.output
    assert f"of {round(ARCHIVE_RECORDS * 0.001):,} records in 10 groups to {out}" in result.output

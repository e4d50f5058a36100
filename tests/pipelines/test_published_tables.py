"""The published tables as a data scientist opens them: real dtypes, names, start times.

One Kedro session over the real records (groups 30, 32, 39; the other configured
groups are missing, so their tables are empty) and one over a tree whose one group
folder holds no record. Every
table is read back the way the README says to load it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.support.paths import PROJECT_ROOT
from waveshard.contract import (
    EXTRACTION_ERRORS,
    RECORD_FEATURES,
    SEGMENT_FEATURES,
    SEGMENT_INDEX,
    SIGNAL_STATS,
    Table,
)

#: Published Parquet files (under output_root) and their schema.
PARQUET = {
    "04_feature/segment_features.parquet": SEGMENT_FEATURES,
    "04_feature/record_features.parquet": RECORD_FEATURES,
    "08_reporting/signal_stats.parquet": SIGNAL_STATS,
    "08_reporting/extraction_errors.parquet": EXTRACTION_ERRORS,
}
#: Human-readable CSV copies and their schema.
CSV = {
    "08_reporting/signal_stats.csv": SIGNAL_STATS,
    "08_reporting/extraction_errors.csv": EXTRACTION_ERRORS,
}
#: Per-group tables (02_intermediate/groups/<id>/).
PER_GROUP = {
    "segment_index.parquet": SEGMENT_INDEX,
    "segment_features.parquet": SEGMENT_FEATURES,
    "record_features.parquet": RECORD_FEATURES,
    "extraction_errors.parquet": EXTRACTION_ERRORS,
}


def run(raw: Path, out: Path) -> Path:
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(
        project_path=PROJECT_ROOT, runtime_params={"raw_root": str(raw), "output_root": str(out)}
    ) as session:
        session.run()
    return out


@pytest.fixture(scope="module")
def full(physionet_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(physionet_tree, tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A group folder with no WFDB record in it: the run goes through (a root with no
    # group folder at all stops before writing anything) and every table is empty.
    raw = tmp_path_factory.mktemp("nothing")
    (raw / "30").mkdir()
    (raw / "30" / "RECORDS").write_text("")
    return run(raw, tmp_path_factory.mktemp("empty"))


def assert_schema(frame: pd.DataFrame, table: Table, where: str) -> None:
    assert list(frame.columns) == table.columns, where
    got = {c: str(t) for c, t in frame.dtypes.items()}
    # pandas spells the "string" dtype "string" once read back
    assert got == dict(table.dtypes), where


@pytest.mark.parametrize("tree", ["full", "empty"])
def test_every_published_table_reads_back_with_its_dtypes(tree: str, request) -> None:
    out = request.getfixturevalue(tree)
    for rel, table in PARQUET.items():
        assert_schema(pd.read_parquet(out / rel), table, f"{tree}: {rel}")
    for rel, table in CSV.items():
        copy = table.read_csv(out / rel)
        assert_schema(copy, table, f"{tree}: {rel}")
        parquet = pd.read_parquet(out / rel.replace(".csv", ".parquet"))
        pd.testing.assert_frame_equal(copy, parquet, check_exact=False, rtol=1e-12)
    for group_dir in sorted((out / "02_intermediate" / "groups").iterdir()):
        for name, table in PER_GROUP.items():
            assert_schema(pd.read_parquet(group_dir / name), table, f"{tree}: {group_dir}/{name}")


def test_columns_behave_as_their_types(full: Path) -> None:
    s = pd.read_parquet(full / "04_feature/segment_features.parquet")
    # a boolean mask (an object column of True/None raised here); <NA> counts as not selected
    mismatched = s[~s.checksum_ok]
    assert len(mismatched) == 0 and s.checksum_ok.sum() == len(s) - s.checksum_ok.isna().sum()
    assert s.checksum_ok.sum() > 0
    assert pd.api.types.is_integer_dtype(s.fmt) and set(s.fmt) == {80, 16}
    errors = pd.read_parquet(full / "08_reporting/extraction_errors.parquet")
    assert set(errors.severity) <= {"error", "warning"}
    assert errors.error_type.dtype == "string"


def test_segment_and_record_start_from_the_master(full: Path) -> None:
    s = pd.read_parquet(full / "04_feature/segment_features.parquet")
    assert str(s.segment_start.dtype) == "datetime64[ms]"
    row = s[s.segment == "3975656_0012"].iloc[0]
    # master s00001-2896-10-10-00-31: 00:31:25.894 on 10/10/2896, and 0012 begins
    # 14428365 samples at 125 Hz (gaps included) = 115426.92 s later.
    expected = dt.datetime(2896, 10, 10, 0, 31, 25, 894000) + dt.timedelta(seconds=115426.92)
    assert row.segment_start == pd.Timestamp(expected)
    assert row.record_start == pd.Timestamp(2896, 10, 10, 0, 31, 25, 894000)
    # a lone segment without a master has no date
    lone = s[s.segment == "3000003_0003"]
    assert lone.segment_start.isna().all() and lone.record_start.isna().all()
    r = pd.read_parquet(full / "04_feature/record_features.parquet")
    assert str(r.record_start.dtype) == "datetime64[ms]"
    assert set(r[r.record == "p000878-2137-10-26-16-57"].record_start) == {
        pd.Timestamp(2137, 10, 26, 16, 57, 9)
    }
    index = pd.read_parquet(full / "02_intermediate/groups/39/segment_index.parquet")
    assert index.set_index("segment").loc["3975656_0012", "segment_start"] == pd.Timestamp(expected)


def test_record_name_and_folder_and_durations(full: Path) -> None:
    r = pd.read_parquet(full / "04_feature/record_features.parquet")
    rec = r[(r.record == "s00001-2896-10-10-00-31") & (r.kind == "waveform")].set_index("signal")
    assert set(rec.record_dir) == {"s00001"}  # the folder of <group>/<record>/
    # duration_s is per signal: ABP is in fewer segments than V
    assert rec.loc["ABP", "duration_s"] == pytest.approx(480.0)
    assert rec.loc["V", "duration_s"] == pytest.approx(18493.864)
    # record_duration_s is the master's span (14518365 samples at 125 Hz), for every row
    assert rec.record_duration_s.tolist() == pytest.approx([116146.92] * len(rec))
    s = pd.read_parquet(full / "04_feature/segment_features.parquet")
    assert set(s[s.group == "30"].record_dir) == {"3000003"}

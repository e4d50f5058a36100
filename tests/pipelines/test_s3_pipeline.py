"""`kedro run --env aws` against a real S3 API (moto's server on 127.0.0.1) equals a local run."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.support import cli
from tests.support.paths import arrange_physionet
from tests.support.s3 import FAKE_SECRET, MotoS3, aws_env, environ
from waveshard.datatools.upload import upload_tree

RAW_PREFIX = "mimic3wdb/1.0"
OUT_PREFIX = "runs/test"


@pytest.fixture(scope="module")
def raw_tree(sample_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample tree plus the real PhysioNet records (which give error rows)."""
    root = tmp_path_factory.mktemp("s3raw") / "raw"
    shutil.copytree(sample_tree, root)
    real = arrange_physionet(tmp_path_factory.mktemp("phys") / "raw")
    for record in real.glob("*/*"):
        shutil.copytree(record, root / record.relative_to(real))
    return root


@pytest.fixture(scope="module")
def runs(raw_tree: Path, moto_s3: MotoS3, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Upload with the project's uploader, then run locally and on S3 side by side."""
    env = aws_env(moto_s3.endpoint_url)
    raw_bucket, out_bucket = moto_s3.bucket("raw"), moto_s3.bucket("features")
    with environ(env):
        report = upload_tree(source=raw_tree, dest=f"s3://{raw_bucket}/{RAW_PREFIX}", workers=8)
    local_out = tmp_path_factory.mktemp("local") / "out"
    local = cli.start(
        "kedro",
        "run",
        "--params",
        f"raw_root={raw_tree},output_root={local_out}",
        env=aws_env("http://127.0.0.1:9"),  # a local run must not touch S3 at all
        inherit=False,
    )
    remote = cli.kedro(
        "run",
        "--env",
        "aws",
        "--params",
        f"raw_root=s3://{raw_bucket}/{RAW_PREFIX},output_root=s3://{out_bucket}/{OUT_PREFIX}",
        env=env,
        inherit=False,
        timeout=300,
    )
    local_log, _ = local.communicate(timeout=300)
    assert local.returncode == 0, local_log[-3000:]
    assert remote.code == 0, remote.output[-3000:]
    return {
        "upload": report,
        "local_out": local_out,
        "out_bucket": out_bucket,
        "raw_bucket": raw_bucket,
        "log": remote.output,
    }


def _remote(moto_s3: MotoS3, bucket: str, key: str) -> bytes:
    return moto_s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def test_upload_preserves_group_record_keys(runs: dict, raw_tree: Path, moto_s3: MotoS3) -> None:
    keys = moto_s3.keys(runs["raw_bucket"], RAW_PREFIX + "/")
    local = {
        f"{RAW_PREFIX}/{p.relative_to(raw_tree).as_posix()}": p.stat().st_size
        for p in raw_tree.rglob("*")
        if p.is_file() and not p.name.startswith(".")  # upload leaves hidden files (the marker)
    }
    assert keys == local
    assert "mimic3wdb/1.0/30/3000001/3000001_0001.dat" in keys
    assert runs["upload"].uploaded == len(local) and runs["upload"].skipped == 0


def test_every_output_equals_the_local_run(runs: dict, moto_s3: MotoS3) -> None:
    local_out: Path = runs["local_out"]
    local_files = {p.relative_to(local_out).as_posix(): p for p in local_out.rglob("*")}
    local_files = {k: v for k, v in local_files.items() if v.is_file()}
    remote_keys = moto_s3.keys(runs["out_bucket"], OUT_PREFIX + "/")
    remote_files = {k[len(OUT_PREFIX) + 1 :] for k in remote_keys}
    assert remote_files == set(local_files)
    assert "04_feature/segment_features.parquet" in remote_files
    # Per group: the profile's 5 files and the clinical pipeline's 3; then 7 + 4 combined.
    assert len(remote_files) == 10 * (5 + 3) + 7 + 4

    identical = 0
    for rel, path in local_files.items():
        remote = _remote(moto_s3, runs["out_bucket"], f"{OUT_PREFIX}/{rel}")
        local = path.read_bytes()
        if rel.endswith("summary.json"):
            # Timings differ between two runs; everything else must not.
            strip = _without_timings
            assert strip(json.loads(remote)) == strip(json.loads(local)), rel
        elif "extraction_errors" in rel or "clinical_errors" in rel:
            read = pd.read_parquet if rel.endswith(".parquet") else pd.read_csv
            left, right = read(io.BytesIO(remote)), read(io.BytesIO(local))
            # The error rows name the file where it lives (bucket path vs local path).
            left["path"] = left["path"].str.split(f"{RAW_PREFIX}/").str[-1]
            right["path"] = right["path"].str.split("/raw/").str[-1]
            pd.testing.assert_frame_equal(left, right, check_exact=True)
        else:
            assert remote == local, f"{rel} differs between S3 and local"
            identical += 1
    # index/features parquet per group; 04_feature's 2 parquet, signal_stats parquet and
    # csv; window_features per group and combined
    assert identical == 10 * 3 + 4 + 10 + 1
    errors = pd.read_csv(local_out / "08_reporting/extraction_errors.csv")
    assert len(errors) > 0, "the real records should give error rows to compare"


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def test_parquet_outputs_are_snappy(runs: dict, moto_s3: MotoS3) -> None:
    body = _remote(moto_s3, runs["out_bucket"], f"{OUT_PREFIX}/04_feature/record_features.parquet")
    meta = pq.ParquetFile(io.BytesIO(body)).metadata
    codecs = {meta.row_group(0).column(i).compression for i in range(meta.num_columns)}
    assert codecs == {"SNAPPY"}


def test_run_checked_storage_first_and_logged_no_secret(runs: dict) -> None:
    log = runs["log"]
    assert "Storage check: raw_root" in log and "Storage check: output_root" in log
    assert log.index("Storage check: raw_root") < log.index("Group 30:")
    assert FAKE_SECRET not in log
    assert "AKIAWAVESHARDTESTKEY" not in log

"""Transient storage faults, against moto's S3 server behind the fault-injecting proxy.

A read that fails with a 5xx, ``SlowDown``, a reset connection or a body cut short is
retried and the outputs are those of a run without faults; a read that keeps failing
costs its own segment (a data file) or header, the rest of the group and the run go
on, and the run exits 0.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.support import cli
from tests.support.paths import PROJECT_ROOT, arrange_physionet
from tests.support.s3 import FAKE_KEY, FAKE_SECRET, MotoS3, aws_env, environ
from tests.support.s3_proxy import Fault, S3Proxy
from waveshard.datatools.upload import upload_tree
from waveshard.pipelines.profile.nodes import (
    discover,
    extract,
    plan_shards,
    report_group,
    summarize_records,
)
from waveshard.wfdb_io.retry import RetryPolicy
from waveshard.wfdb_io.storage import GroupFolder

RAW_PREFIX = "mimic3wdb/1.0"
GROUPS = [str(g) for g in range(30, 40)]
SIGNAL_NAMES = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters.yml").read_text())[
    "signal_names"
]


@pytest.fixture(scope="module")
def raw_tree(sample_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample tree plus the real PhysioNet records."""
    root = tmp_path_factory.mktemp("faultraw") / "raw"
    shutil.copytree(sample_tree, root)
    real = arrange_physionet(tmp_path_factory.mktemp("faultphys") / "raw")
    for record in real.glob("*/*"):
        shutil.copytree(record, root / record.relative_to(real))
    return root


@pytest.fixture(scope="module")
def raw_bucket(raw_tree: Path, moto_s3: MotoS3) -> str:
    bucket = moto_s3.bucket("faults")
    with environ(aws_env(moto_s3.endpoint_url)):
        upload_tree(source=raw_tree, dest=f"s3://{bucket}/{RAW_PREFIX}", workers=8)
    return bucket


def _profile(root: str, options: dict, read_ahead_mb: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every group through the pipeline's nodes, two workers each: segment features, errors."""
    segments, errors = [], []
    for group in GROUPS:
        folder = GroupFolder.scan(group, f"{root}/{group}", options)
        found, index = discover(folder)
        plan = plan_shards(found, 2, 4, parallel_min_mb=0)
        rows, counts, problems, figures = extract(
            folder, found, plan, 60, read_ahead_mb=read_ahead_mb
        )
        summary = summarize_records(found, rows, counts, index, SIGNAL_NAMES)
        segments.append(summary[0])
        errors.append(report_group(folder, found, problems, summary[2], figures)[0])
    return _sorted_segments(pd.concat(segments)), _sorted_errors(pd.concat(errors))


def _sorted_segments(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["group", "record", "segment", "channel"]
    return frame.sort_values(keys).reset_index(drop=True)


def _sorted_errors(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    # Error rows name the file where it lives: a bucket path or a local path.
    frame["path"] = frame["path"].str.split(r"/(?=3\d/)", regex=True).str[-1]
    keys = ["group", "record", "segment", "error_type", "path"]
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.fixture(scope="module")
def fault_free(raw_tree: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _profile(str(raw_tree), {}, read_ahead_mb=64)


def test_transient_faults_on_headers_and_data_leave_the_outputs_unchanged(
    raw_bucket: str, moto_s3: MotoS3, fault_free
) -> None:
    # Each rule on its own group, so no object meets more than 4 faults in a row and
    # every read succeeds within the policy's 8 attempts, however requests interleave.
    faults = [
        Fault("slow_down", key="*/30/*.hea", times=3),
        Fault("internal_error", key="*/31/*.hea", times=3),
        Fault("reset", key="*/32/*.hea", times=2),
        Fault("truncate", key="*/39/*.hea", times=2),
        Fault("slow_down", key="*/30/*.dat", times=3),
        Fault("internal_error", key="*/32/*.dat", times=3),
        Fault("reset", key="*/39/*.dat", times=3, body_fraction=0.3),
        Fault("truncate", key="*/34/*.dat", times=3, body_fraction=0.7),
        # A big data file read as several ranges: one range breaks.
        Fault("reset", key="*/39/s00001/3975656_0006.dat", times=1),
    ]
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.002, bandwidth=None, faults=faults) as proxy:
        options = {"key": FAKE_KEY, "secret": FAKE_SECRET, "endpoint_url": proxy.endpoint_url}
        segments, errors = _profile(f"s3://{raw_bucket}/{RAW_PREFIX}", options, 0.5)
    assert [f.fired for f in faults] == [f.times for f in faults]
    assert not (errors["error_type"] == "StorageReadError").any()
    pd.testing.assert_frame_equal(segments, fault_free[0], check_exact=True)
    pd.testing.assert_frame_equal(errors, fault_free[1], check_exact=True)


def test_a_read_that_keeps_failing_costs_only_its_segment(
    raw_bucket: str, moto_s3: MotoS3, tmp_path: Path, fault_free
) -> None:
    broken_dat = "39/s00001/3975656_0005.dat"
    broken_header = "32/s25047/3234460_0003.hea"
    faults = [
        Fault("internal_error", key=f"*/{broken_dat}"),
        Fault("reset", key=f"*/{broken_header}"),
        # Transient trouble elsewhere at the same time, which must not matter.
        Fault("slow_down", key="*.dat", times=5),
    ]
    out_bucket = moto_s3.bucket("faultout")
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.002, bandwidth=None, faults=faults) as proxy:
        run = cli.run(
            "kedro",
            "run",
            "--env",
            "aws",
            "--params",
            f"raw_root=s3://{raw_bucket}/{RAW_PREFIX},output_root=s3://{out_bucket}/out",
            env=aws_env(proxy.endpoint_url),
            inherit=False,
        )
        tried = {
            rel: proxy.requests_per_key[f"GET {raw_bucket}/{RAW_PREFIX}/{rel}"]
            for rel in (broken_dat, broken_header)
        }
    assert run.code == 0, run.output[-3000:]
    # One retry layer: the policy's attempts, not botocore's times s3fs's, in each of the
    # two pipelines that read the files (the profile and the clinical features).
    attempts = 2 * RetryPolicy().attempts
    assert tried == {broken_dat: attempts, broken_header: attempts}

    client = moto_s3.client()

    def load(key: str, read) -> pd.DataFrame:
        return read(
            io.BytesIO(client.get_object(Bucket=out_bucket, Key=f"out/{key}")["Body"].read())
        )

    segments = _sorted_segments(load("04_feature/segment_features.parquet", pd.read_parquet))
    errors = _sorted_errors(
        load(
            "08_reporting/extraction_errors.csv",
            lambda body: pd.read_csv(body, dtype=str, keep_default_na=False),
        )
    )

    lost = {("39", "3975656_0005"), ("32", "3234460_0003")}
    expected_segments, expected_errors = fault_free
    keep = [
        (g, s) not in lost
        for g, s in zip(expected_segments["group"], expected_segments["segment"], strict=True)
    ]
    expected_segments = expected_segments[keep].reset_index(drop=True)
    pd.testing.assert_frame_equal(segments, expected_segments, check_dtype=False, check_exact=True)

    both = errors.merge(expected_errors.astype(str), how="outer", indicator=True)
    assert not (both["_merge"] == "right_only").any(), "an error row of the fault-free run is gone"
    added = both[both["_merge"] == "left_only"]
    assert sorted(zip(added["segment"], added["error_type"], strict=True)) == [
        ("3234460_0003", "UnreadableHeader"),
        ("3975656_0005", "StorageReadError"),
    ]
    assert len(errors) == len(expected_errors) + 2
    for message in added["message"]:
        assert "read failed 8 times" in message and "rerun the group" in message
        assert len(message) < 600

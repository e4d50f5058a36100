"""Groups split into partitions, streamed or staged, against moto's S3 on 127.0.0.1.

The real records (tests/data/physionet: groups 30, 32 and 39, damage included) with
``max_partition_gb`` small enough that every record is a partition of its own:
group 32's two records are two jobs. The combined tables equal a plain ``kedro run``
on the same S3 tree.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.support.runner import (
    IMAGE,
    OUT_BUCKET,
    RAW_BUCKET,
    ROLE,
    Moto,
    get_bytes,
    kedro_run,
    list_keys,
    make_buckets,
    runner_args,
    upload_tree,
)

PREFIX = "physionet"
GROUPS = "groups=30 32 39"
#: One kilobyte: every record is a partition of its own.
TINY_GB = 0.000001
FAST = {"poll_initial_s": 0.2, "poll_max_s": 1, "max_concurrent_jobs": 2}
TABLES = (
    "04_feature/segment_features.parquet",
    "04_feature/record_features.parquet",
    "08_reporting/signal_stats.csv",
    "08_reporting/extraction_errors.csv",
)


@pytest.fixture(scope="module")
def tree(moto_s3, physionet_tree: Path) -> Moto:
    server = Moto.of(moto_s3)
    upload_tree(server, physionet_tree, RAW_BUCKET, PREFIX)
    make_buckets(server, OUT_BUCKET)
    server.raw = physionet_tree
    return server


def _params(root: str) -> list[str]:
    raw = f"s3://{RAW_BUCKET}/{PREFIX}"
    return [
        "--env",
        "aws",
        "--params",
        f"raw_root={raw},output_root=s3://{OUT_BUCKET}/{root},{GROUPS}",
    ]


@pytest.fixture(scope="module")
def plain(tree: Moto) -> str:
    result = kedro_run(_params("plain"), env=tree.env)
    assert result.code == 0, result.output[-3000:]
    return "plain"


def _table(tree: Moto, key: str) -> pd.DataFrame:
    data = get_bytes(tree, OUT_BUCKET, key)
    return (
        pd.read_parquet(io.BytesIO(data))
        if key.endswith(".parquet")
        else pd.read_csv(io.BytesIO(data))
    )


def test_streamed_partitions_combine_to_exactly_the_plain_run(tree, plain, tmp_path) -> None:
    args = [
        *_params("stream"),
        *runner_args(backend="local", local_work_dir=tmp_path, max_partition_gb=TINY_GB, **FAST),
    ]
    result = kedro_run(args, env=tree.env)
    assert result.code == 0, result.output[-4000:]
    folders = sorted(p.name.rsplit("-", 2)[0] for p in tmp_path.glob("store-*/ws-*"))
    assert folders == [
        "ws-group-30",
        "ws-group-32-part-0000",
        "ws-group-32-part-0001",
        "ws-group-39",
    ]
    for request in tmp_path.glob("store-*/ws-*/request.json"):
        names = [i["InputName"] for i in json.loads(request.read_text())["ProcessingInputs"]]
        assert names == ["code", "job"]  # nothing staged: the job reads S3 itself
    # group 32's outputs: one part per partition, each with its own completion marker
    parts = list_keys(tree, OUT_BUCKET, "stream/02_intermediate/groups/32/parts/")
    for label in ("part-0000", "part-0001"):
        prefix = f"stream/02_intermediate/groups/32/parts/{label}"
        assert f"{prefix}/segment_features.parquet" in parts
        assert f"{prefix}/_waveshard_complete_group_32-{label}.json" in parts
    # bit for bit: the same bytes (CSV) and the same frames (Parquet) as a plain run
    for rel in TABLES:
        ours, theirs = f"stream/{rel}", f"{plain}/{rel}"
        if rel.endswith(".csv"):
            assert get_bytes(tree, OUT_BUCKET, ours) == get_bytes(tree, OUT_BUCKET, theirs), rel
        else:
            pd.testing.assert_frame_equal(
                _table(tree, ours), _table(tree, theirs), check_exact=True
            )
    assert len(_table(tree, f"stream/{TABLES[0]}")) > 0
    assert len(_table(tree, f"stream/{TABLES[3]}")) > 0  # the real damage is reported
    summary = json.loads(get_bytes(tree, OUT_BUCKET, "stream/08_reporting/run_summary.json"))
    reference = json.loads(get_bytes(tree, OUT_BUCKET, f"{plain}/08_reporting/run_summary.json"))
    for key in ("records", "segments", "segments_ok", "segments_failed", "problems", "dat_bytes"):
        assert summary["totals"][key] == reference["totals"][key], key


def test_staged_partitions_read_manifests_and_combine_in_a_job(tree, plain, tmp_path) -> None:
    args = [
        *_params("file"),
        *runner_args(
            backend="local",
            local_work_dir=tmp_path,
            max_partition_gb=TINY_GB,
            input_mode="file",
            combine="job",
            **FAST,
        ),
    ]
    result = kedro_run(args, env=tree.env)
    assert result.code == 0, result.output[-4000:]
    (part,) = tmp_path.glob("store-*/ws-group-32-part-0001-*")
    request = json.loads((part / "request.json").read_text())
    raw = request["ProcessingInputs"][2]["S3Input"]
    assert raw["S3DataType"] == "ManifestFile"
    staged = sorted(
        p.relative_to(part / "processing/input/raw_records").as_posix()
        for p in (part / "processing/input/raw_records").rglob("*")
        if p.is_file()
    )
    record = sorted(
        p.relative_to(tree.raw / "32").as_posix() for p in (tree.raw / "32" / "s25047").rglob("*")
    )
    assert staged == record  # exactly the partition's record, whole
    for rel in TABLES:
        ours, theirs = _table(tree, f"file/{rel}"), _table(tree, f"{plain}/{rel}")
        if "path" in ours:  # staged files have the job's paths, not the S3 keys
            ours, theirs = ours.drop(columns="path"), theirs.drop(columns="path")
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_sagemaker_jobs_stream_or_read_manifests_one_per_partition(tree, tmp_path) -> None:
    def creates(**settings: object) -> list[dict]:
        tree.start_recording()
        kedro_run(
            [
                *_params("sm"),
                *runner_args(
                    backend="sagemaker",
                    role_arn=ROLE,
                    image_uri=IMAGE,
                    max_partition_gb=TINY_GB,
                    force="true",
                    **FAST,
                    **settings,
                ),
            ],
            env=tree.env,
        )
        return [
            json.loads(r["body"])
            for r in tree.recorded()
            if r.get("headers", {}).get("X-Amz-Target") == "SageMaker.CreateProcessingJob"
        ]

    streamed = creates()
    assert len(streamed) == 4  # groups 30 and 39, and group 32's two records
    for request in streamed:
        assert [i["InputName"] for i in request["ProcessingInputs"]] == ["code", "job"]
    staged = creates(input_mode="file")
    assert len(staged) == 4
    listed = {}
    for request in staged:
        (raw,) = [
            i["S3Input"] for i in request["ProcessingInputs"] if i["InputName"] == "raw_records"
        ]
        key = raw["S3Uri"].split("/", 3)[3]
        manifest = (
            json.loads(get_bytes(tree, OUT_BUCKET, key))
            if raw["S3DataType"] == "ManifestFile"
            else None
        )
        if manifest:
            listed[request["ProcessingJobName"]] = (manifest[0]["prefix"], sorted(manifest[1:]))
    assert len(listed) == 2  # group 32 is split; 30 and 39 are whole prefixes
    for prefix, keys in listed.values():
        assert prefix == f"s3://{RAW_BUCKET}/{PREFIX}/32/"
        (record,) = {k.split("/")[0] for k in keys}
        expected = sorted(
            p.relative_to(tree.raw / "32").as_posix()
            for p in (tree.raw / "32" / record).rglob("*")
            if p.is_file()
        )
        assert keys == expected
    assert all(re.match(r"ws-group-32-part-000[01]-", name) for name in listed)

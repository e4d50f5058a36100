"""Bad locations fail before extraction with one error naming the fix, and write nothing.

The runs here are in-process Kedro sessions, ``--env aws`` ones against moto's
server on 127.0.0.1 on a copy of ``conf/`` whose ``aws`` globals (and ``local``
credentials) each test edits; a raw root that names none of the configured
groups is checked locally and on S3.
"""

from __future__ import annotations

import io
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.support import cli
from tests.support.paths import PROJECT_ROOT, SAMPLE_RAW
from tests.support.s3 import FAKE_SECRET, MotoS3, iam_checks
from waveshard.config import storage_settings
from waveshard.datatools.s3check import StorageSettingError


@pytest.fixture
def buckets(moto_s3: MotoS3) -> dict[str, str]:
    """A raw bucket holding one tiny object under its prefix, and an empty output bucket."""
    raw, out = moto_s3.bucket("raw"), moto_s3.bucket("out")
    moto_s3.client().put_object(Bucket=raw, Key="tree/30/3000001/3000001.hea", Body=b"x")
    return {"raw": raw, "out": out}


def make_conf(
    tmp_path: Path, buckets: dict[str, str], credentials: dict | None = None, **changes: Any
) -> Path:
    """A copy of conf/ with the aws globals pointed at ``buckets`` and then ``changes``."""
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_ROOT / "conf", conf)
    path = conf / "aws" / "globals.yml"
    values = yaml.safe_load(path.read_text())
    values.update(
        raw_bucket=buckets["raw"],
        raw_prefix="tree",
        output_bucket=buckets["out"],
        output_prefix="o",
    )
    for key, value in changes.items():
        if key.startswith("s3_"):
            values["s3"][key[3:]] = value
        else:
            values[key] = value
    path.write_text(yaml.safe_dump(values))
    if credentials is not None:
        (conf / "local" / "credentials.yml").write_text(yaml.safe_dump(credentials))
    return conf


def run_aws(conf: Path, runtime_params: dict | None = None) -> None:
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(
        project_path=PROJECT_ROOT,
        env="aws",
        conf_source=str(conf),
        runtime_params=runtime_params or {},
    ) as session:
        session.run()


def failure(conf: Path, runtime_params: dict | None = None) -> str:
    started = time.perf_counter()
    with pytest.raises(StorageSettingError) as caught:
        run_aws(conf, runtime_params)
    assert time.perf_counter() - started < 20
    return str(caught.value.message)


def assert_nothing_written(moto_s3: MotoS3, buckets: dict[str, str]) -> None:
    assert moto_s3.keys(buckets["out"]) == {}


def test_wrong_raw_bucket_names_raw_bucket(tmp_path, s3_env, moto_s3, buckets, caplog) -> None:
    conf = make_conf(tmp_path, buckets, raw_bucket="no-such-bucket-x1")
    message = failure(conf)
    assert message.startswith("raw_root s3://no-such-bucket-x1/tree: bucket 'no-such-bucket-x1'")
    assert "does not exist" in message
    assert "raw_bucket in conf/aws/globals.yml" in message
    assert_nothing_written(moto_s3, buckets)
    assert not [r for r in caplog.records if r.getMessage().startswith("Group ")]


def test_wrong_bucket_from_params_names_the_param(tmp_path, s3_env, moto_s3, buckets) -> None:
    conf = make_conf(tmp_path, buckets)
    message = failure(conf, {"raw_root": "s3://no-such-bucket-x2/tree"})
    assert "bucket 'no-such-bucket-x2' does not exist" in message
    assert "--params raw_root=" in message


def test_missing_prefix_names_raw_prefix(tmp_path, s3_env, moto_s3, buckets) -> None:
    conf = make_conf(tmp_path, buckets, raw_prefix="not/uploaded")
    message = failure(conf)
    assert "no objects under prefix 'not/uploaded/'" in message
    assert "raw_prefix in conf/aws/globals.yml" in message
    assert_nothing_written(moto_s3, buckets)


def test_wrong_output_bucket_names_output_bucket(tmp_path, s3_env, moto_s3, buckets) -> None:
    conf = make_conf(tmp_path, buckets, output_bucket="no-such-bucket-x3")
    message = failure(conf)
    assert message.startswith("output_root s3://no-such-bucket-x3/o:")
    assert "output_bucket in conf/aws/globals.yml" in message


def test_bad_credentials_in_local_file(tmp_path, s3_env, moto_s3, buckets, caplog) -> None:
    secret = "local-file-secret-never-logged-42"
    conf = make_conf(
        tmp_path, buckets, credentials={"s3": {"key": "AKIAUNKNOWN", "secret": secret}}
    )
    with iam_checks():
        message = failure(conf)
    assert "credentials were rejected (InvalidAccessKeyId)" in message
    assert "`s3` entry in conf/local/credentials.yml" in message
    assert secret not in message and secret not in caplog.text
    assert_nothing_written(moto_s3, buckets)


def test_bad_credentials_from_environment(tmp_path, s3_env, moto_s3, buckets, caplog) -> None:
    conf = make_conf(tmp_path, buckets)
    with iam_checks():
        message = failure(conf)
    assert "credentials were rejected (InvalidAccessKeyId)" in message
    assert "AWS_ACCESS_KEY_ID" in message
    assert FAKE_SECRET not in message and FAKE_SECRET not in caplog.text


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint_from_env(tmp_path, s3_env, buckets, monkeypatch) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    message = failure(make_conf(tmp_path, buckets))
    assert f"cannot reach the S3 endpoint {endpoint}" in message
    assert "AWS_ENDPOINT_URL environment variable" in message


def test_unreachable_endpoint_from_globals(tmp_path, s3_env, buckets) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    message = failure(make_conf(tmp_path, buckets, s3_endpoint_url=endpoint))
    assert f"cannot reach the S3 endpoint {endpoint}" in message
    assert "s3.endpoint_url in conf/aws/globals.yml" in message


def test_cli_prints_one_error_line(tmp_path, s3_env, moto_s3, buckets) -> None:
    conf = make_conf(tmp_path, buckets, raw_bucket="no-such-bucket-x4")
    result = cli.kedro(
        "run", "--env", "aws", "--conf-source", str(conf), env=s3_env, inherit=False, timeout=120
    )
    output = result.output
    assert result.code == 1
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert errors == [
        "Error: raw_root s3://no-such-bucket-x4/tree: bucket 'no-such-bucket-x4' does not "
        "exist — set raw_bucket in conf/aws/globals.yml or --params raw_root=s3://<bucket>/<prefix>"
    ]
    assert "Traceback" not in output and "Running node" not in output


def test_sse_kms_write_args_reach_every_object(tmp_path, s3_env, moto_s3, buckets) -> None:
    key_id = "arn:aws:kms:us-east-1:123456789012:key/waveshard-test"
    conf = make_conf(
        tmp_path,
        buckets,
        s3_write_args={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id},
    )
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env="aws", conf_source=str(conf)) as s:
        catalog = s.load_context().catalog
    catalog.save("segment_features", pd.DataFrame({"a": [1, 2]}))
    catalog.save("run_summary", {"ok": True})
    for key in ("o/04_feature/segment_features.parquet", "o/08_reporting/run_summary.json"):
        head = moto_s3.client().head_object(Bucket=buckets["out"], Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == key_id
    # A rerun overwrites: the object now holds the second table only.
    catalog.save("segment_features", pd.DataFrame({"a": [3]}))
    assert catalog.load("segment_features")["a"].tolist() == [3]


def test_credentials_file_reaches_datasets_and_data_tools(tmp_path, s3_env, buckets) -> None:
    creds = {"s3": {"key": "AKIAFROMFILE", "secret": "from-file"}}
    conf = make_conf(tmp_path, buckets, credentials=creds, s3_endpoint_url="http://127.0.0.1:1")
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env="aws", conf_source=str(conf)) as s:
        catalog = s.load_context().catalog
    raw = catalog.get("group_30.raw_records")
    assert raw._storage_options["key"] == "AKIAFROMFILE"
    assert raw._storage_options["endpoint_url"] == "http://127.0.0.1:1"
    settings = storage_settings("aws", project_path=tmp_path)
    assert settings.raw_root == f"s3://{buckets['raw']}/tree"
    assert settings.storage_options == {
        "key": "AKIAFROMFILE",
        "secret": "from-file",
        "endpoint_url": "http://127.0.0.1:1",
    }


def test_shipped_configuration_holds_no_credentials() -> None:
    """`kedro package` ships conf/ without local/*.yml; nothing else may hold keys."""
    shipped = [p for p in (PROJECT_ROOT / "conf").rglob("*") if p.is_file()]
    assert not [
        p
        for p in shipped
        if p.name.startswith("credentials") and p.suffix == ".yml" and p.parent.name != "local"
    ]
    for path in shipped:
        if path.parent.name == "local":
            continue
        text = path.read_text(errors="ignore")
        assert "secret:" not in text and "aws_secret_access_key" not in text.lower(), path


# ----------------------------------------------- a root that names nothing writes nothing
def _upload(moto_s3: MotoS3, source: Path, bucket: str, prefix: str) -> None:
    client = moto_s3.client()
    for path in sorted(source.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(source).as_posix()}"
            client.upload_file(str(path), bucket, key)


def _objects(moto_s3: MotoS3, bucket: str) -> dict[str, bytes]:
    client = moto_s3.client()
    return {
        key: client.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in moto_s3.keys(bucket)
    }


def test_s3_raw_root_with_a_trailing_slash_or_naming_nothing(
    tmp_path, s3_env, moto_s3, buckets
) -> None:
    """Extra slashes name the same prefixes; a prefix without the groups writes nothing."""
    _upload(moto_s3, SAMPLE_RAW / "30", buckets["raw"], "tree/30")
    _upload(moto_s3, SAMPLE_RAW / "31", buckets["raw"], "subset/p00")  # another layout
    conf = make_conf(tmp_path, buckets)
    run_aws(
        conf,
        {
            "raw_root": f"s3://{buckets['raw']}/tree/",
            "output_root": f"s3://{buckets['out']}//o/",
            "groups": "30",
        },
    )
    good = _objects(moto_s3, buckets["out"])
    assert not [key for key in good if "//" in key or not key.startswith("o/")]
    segments = pd.read_parquet(io.BytesIO(good["o/04_feature/segment_features.parquet"]))
    assert set(segments["group"]) == {"30"} and len(segments) > 0

    message = failure(conf, {"raw_root": f"s3://{buckets['raw']}/subset/"})
    assert message.startswith(f"raw_root s3://{buckets['raw']}/subset holds none of the ")
    assert "it holds p00/" in message and 'groups=p00"' in message
    assert "--params raw_root=" in message
    message = failure(conf, {"raw_root": f"{buckets['raw']}/tree"})
    assert message == (
        f"raw_root {buckets['raw']}/tree is read as a local path (it has no s3:// scheme) and "
        "does not exist — set --params raw_root=... to the folder that holds the "
        "patient-group folders"
    )
    assert _objects(moto_s3, buckets["out"]) == good  # the good outputs survived


def _run_local(raw_root: Path | str, out: Path, **params: str) -> None:
    bootstrap_project(PROJECT_ROOT)
    runtime = {"raw_root": str(raw_root), "output_root": str(out), **params}
    with KedroSession.create(project_path=PROJECT_ROOT, runtime_params=runtime) as session:
        session.run()


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_local_raw_root_naming_nothing_fails_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run_local(SAMPLE_RAW, out, groups="30")
    good = _snapshot(out)
    assert "04_feature/segment_features.parquet" in good

    with pytest.raises(StorageSettingError) as absent:
        _run_local(tmp_path / "no" / "such" / "tree", out)
    assert str(absent.value.message) == (
        f"raw_root {tmp_path}/no/such/tree does not exist — set --params raw_root=... to the "
        "folder that holds the patient-group folders"
    )
    # A matched-subset tree (p00/p000020/...) run with the default groups 30 ... 39.
    subset = tmp_path / "matched"
    shutil.copytree(SAMPLE_RAW / "30", subset / "p00" / "p000020")
    (subset / "RECORDS").write_text("p00/\n")
    with pytest.raises(StorageSettingError) as other:
        _run_local(f"{subset}//", out)
    message = str(other.value.message)
    assert message.startswith(
        f"raw_root {subset} holds none of the configured groups (30, 31, 32, 33, 34, …)"
    )
    assert "it holds RECORDS, p00/" in message and '(e.g. --params "groups=p00")' in message
    assert _snapshot(out) == good  # nothing was written, not even an empty table

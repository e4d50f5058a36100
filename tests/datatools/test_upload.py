"""`waveshard upload` against moto's S3 server on 127.0.0.1: keys, resume, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import cli
from tests.support.s3 import MotoS3
from waveshard.datatools.s3check import StorageSettingError
from waveshard.datatools.upload import upload_tree


@pytest.fixture
def tree(sample_tree: Path, tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    shutil.copytree(sample_tree, root, ignore=shutil.ignore_patterns("3[2-9]"))
    (root / ".DS_Store").write_bytes(b"junk")
    return root


def local_keys(root: Path, prefix: str) -> dict[str, int]:
    return {
        f"{prefix}/{p.relative_to(root).as_posix()}": p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def test_upload_keeps_keys_and_resumes(tree: Path, s3_env, moto_s3: MotoS3) -> None:
    bucket = moto_s3.bucket()
    first = upload_tree(source=tree, dest=f"s3://{bucket}/mimic/1.0", workers=4)
    expected = local_keys(tree, "mimic/1.0")
    assert moto_s3.keys(bucket) == expected
    assert first.uploaded == len(expected) == first.files and first.skipped == 0
    assert first.bytes_uploaded == sum(expected.values())

    again = upload_tree(source=tree, dest=f"s3://{bucket}/mimic/1.0/", workers=4)
    assert (again.uploaded, again.skipped) == (0, len(expected))

    # An interrupted upload: one object missing, one left short; a changed local file.
    client = moto_s3.client()
    client.delete_object(Bucket=bucket, Key="mimic/1.0/30/3000001/3000001_0001.dat")
    client.put_object(Bucket=bucket, Key="mimic/1.0/30/3000002/3000002_0001.dat", Body=b"ab")
    changed = tree / "31" / "3100001" / "3100001n.hea"
    changed.write_text(changed.read_text() + "# appended\n")
    resumed = upload_tree(source=tree, dest=f"s3://{bucket}/mimic/1.0", workers=4)
    assert resumed.uploaded == 3 and resumed.skipped == len(expected) - 3
    body = client.get_object(Bucket=bucket, Key=f"mimic/1.0/{changed.relative_to(tree).as_posix()}")
    assert body["Body"].read() == changed.read_bytes()
    short = client.get_object(Bucket=bucket, Key="mimic/1.0/30/3000002/3000002_0001.dat")
    assert short["Body"].read() == (tree / "30/3000002/3000002_0001.dat").read_bytes()


def test_upload_to_missing_bucket_names_the_option(tree: Path, s3_env, moto_s3) -> None:
    with pytest.raises(StorageSettingError) as caught:
        upload_tree(source=tree, dest="s3://no-such-bucket-up/x")
    assert "--to s3://no-such-bucket-up/x: bucket 'no-such-bucket-up' does not exist" in str(
        caught.value.message
    )


def test_cli_upload(tree: Path, s3_env, moto_s3: MotoS3) -> None:
    bucket = moto_s3.bucket()
    command = ["upload", "--from", str(tree)]
    result = cli.run(
        "waveshard",
        *command,
        "--to",
        f"s3://{bucket}/raw",
        "--workers",
        "4",
        env=s3_env,
        inherit=False,
        timeout=120,
    )
    assert result.code == 0, result.stderr
    n = len(local_keys(tree, "raw"))
    assert f"Uploaded {n} files" in result.stdout
    assert moto_s3.keys(bucket) == local_keys(tree, "raw")
    missing = cli.run(
        "waveshard",
        *command,
        "--to",
        "s3://no-such-bucket-cli/raw",
        env=s3_env,
        inherit=False,
        timeout=120,
    )
    assert missing.code == 1
    assert "Error: --to s3://no-such-bucket-cli/raw: bucket 'no-such-bucket-cli'" in missing.stderr
    assert "Traceback" not in missing.stderr

"""Storage checks name what is wrong with the credentials: none at all is not "rejected"."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.support.paths import SAMPLE_RAW
from tests.support.s3 import MotoS3, clear_s3fs_cache, iam_checks
from waveshard.datatools.commands import main
from waveshard.datatools.s3check import (
    SettingHints,
    StorageSettingError,
    check_s3_root,
    s3_filesystem,
)

HINTS = SettingHints(
    bucket="--to",
    prefix="--to",
    credentials="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    endpoint="AWS_ENDPOINT_URL",
)


@pytest.fixture
def no_credentials(s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's endpoint, and no credentials anywhere (no keys, files, profile or instance role)."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    clear_s3fs_cache()


def check(url: str) -> str:
    with pytest.raises(StorageSettingError) as caught:
        check_s3_root(setting="--to", url=url, fs=s3_filesystem(url), hints=HINTS)
    return caught.value.message


def test_no_credentials_at_all_says_none_were_found(moto_s3: MotoS3, no_credentials) -> None:
    bucket = moto_s3.bucket("nocreds")
    message = check(f"s3://{bucket}/tree")
    assert "no S3 credentials found" in message
    assert "rejected" not in message
    assert "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY" in message


def test_wrong_credentials_are_rejected(moto_s3: MotoS3, s3_env: dict[str, str]) -> None:
    bucket = moto_s3.bucket("badcreds")
    with iam_checks():
        message = check(f"s3://{bucket}/tree")
    assert "the S3 credentials were rejected (InvalidAccessKeyId)" in message


def test_upload_without_credentials_is_one_clear_error(moto_s3: MotoS3, no_credentials) -> None:
    bucket = moto_s3.bucket("nocreds")
    result = CliRunner().invoke(
        main, ["upload", "--from", str(SAMPLE_RAW), "--to", f"s3://{bucket}/tree"]
    )
    assert result.exit_code == 1
    assert "no S3 credentials found" in result.output and "rejected" not in result.output
    assert moto_s3.keys(bucket) == {}

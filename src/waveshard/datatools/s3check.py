"""Fail-fast checks of an S3 location: one clear error naming the setting to fix.

A wrong bucket, a missing prefix, rejected credentials or an unreachable endpoint
would otherwise surface deep inside an extraction as a botocore traceback, after
minutes of retries. These checks ask S3 once per root, with retries off and a
short connect timeout, and turn the failure into a :class:`StorageSettingError`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from typing import Any

import click
import fsspec

from waveshard import uris

#: Error codes S3 (and S3-compatible stores) return for unusable credentials.
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "InvalidClientTokenId",
}
_DENIED = {"AccessDenied", "AllAccessDisabled", "AccountProblem"}


class StorageSettingError(click.ClickException):
    """A storage location that cannot be used as configured; the message names the fix.

    A ``click.ClickException`` so that ``kedro run`` and ``waveshard`` print it
    as one ``Error: ...`` line instead of a traceback.
    """


@dataclass(frozen=True, kw_only=True)
class SettingHints:
    """Where a user fixes each kind of problem, phrased for the error message.

    Attributes:
        bucket: How to choose another bucket.
        prefix: How to choose another prefix (or fill it).
        credentials: How to supply working credentials.
        endpoint: How to point at the right S3 endpoint.
        write_args: How to fix the write (encryption) arguments.
    """

    bucket: str
    prefix: str
    credentials: str
    endpoint: str
    write_args: str = "s3.write_args in conf/aws/globals.yml"


def endpoint_hint(storage_options: dict[str, Any], globals_file: str) -> str:
    """Which setting decides the endpoint for these options, for error messages."""
    configured = storage_options.get("endpoint_url") or (
        storage_options.get("client_kwargs") or {}
    ).get("endpoint_url")
    if not configured:
        for var in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
            if os.environ.get(var):
                return f"the {var} environment variable (or s3.endpoint_url in {globals_file})"
    return f"s3.endpoint_url in {globals_file} (or AWS_ENDPOINT_URL)"


def fail_fast(fs: Any) -> Any:
    """A copy of an S3 filesystem that neither retries nor waits long to connect."""
    options = dict(getattr(fs, "storage_options", {}) or {})
    config = dict(options.get("config_kwargs") or {})
    config.update(connect_timeout=5, read_timeout=20, retries={"max_attempts": 1})
    options.update(config_kwargs=config, skip_instance_cache=True)
    probe = type(fs)(**options)
    probe.retries = 1  # s3fs's own retry loop, on top of botocore's
    return probe


def _code(exc: BaseException) -> str | None:
    for err in (exc, exc.__cause__, exc.__context__):
        response = getattr(err, "response", None)
        if isinstance(response, dict):
            return response.get("Error", {}).get("Code")
    return None


def _is_connection_error(exc: BaseException) -> bool:
    import botocore.exceptions as bex

    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        network = bex.ConnectionError | bex.HTTPClientError | ConnectionError | OSError
        if (
            isinstance(seen, network)
            and _code(seen) is None
            and not isinstance(seen, PermissionError | FileNotFoundError)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _endpoint(fs: Any) -> str:
    try:
        return str(fs.s3.meta.endpoint_url)
    except Exception:  # the client could not even be built
        return "the S3 endpoint"


def explain(
    exc: BaseException, *, setting: str, url: str, fs: Any, hints: SettingHints
) -> StorageSettingError:
    """Turn an S3 failure on ``url`` into one :class:`StorageSettingError`.

    Args:
        exc: What s3fs/botocore raised.
        setting: The setting that chose ``url`` (``raw_root``, ``--to``...).
        url: The S3 location that was probed.
        fs: The filesystem that was used (for the endpoint in the message).
        hints: Where each kind of problem is fixed.

    Returns:
        The error to raise (``from None``: the cause is in the message).
    """
    import botocore.exceptions as bex

    bucket, _ = uris.split(url)
    code = _code(exc)
    where = f"{setting} {url}"
    if code == "NoSuchBucket" or (
        isinstance(exc, FileNotFoundError) and "bucket" in str(exc).lower()
    ):
        msg = f"bucket '{bucket}' does not exist — set {hints.bucket}"
    elif isinstance(exc, bex.NoCredentialsError):
        # Nothing was sent, so nothing was rejected: say that none were found.
        msg = f"no S3 credentials found (NoCredentialsError) — {hints.credentials}"
    elif isinstance(exc, bex.PartialCredentialsError):
        msg = f"the S3 credentials are incomplete ({exc}) — {hints.credentials}"
    elif code in _BAD_CREDENTIALS:
        msg = f"the S3 credentials were rejected ({code}) — {hints.credentials}"
    elif code in _DENIED or isinstance(exc, PermissionError):
        msg = (
            f"access denied ({code or 'AccessDenied'}) to bucket '{bucket}' — give these "
            f"credentials access, or {hints.credentials}"
        )
    elif code and code.startswith("KMS"):
        msg = f"server-side encryption failed ({code}: {exc}) — fix {hints.write_args}"
    elif _is_connection_error(exc):
        msg = f"cannot reach the S3 endpoint {_endpoint(fs)} ({exc}) — set {hints.endpoint}"
    else:
        msg = f"S3 request failed ({code or type(exc).__name__}: {exc})"
    return StorageSettingError(f"{where}: {msg}")


def check_s3_root(
    *,
    setting: str,
    url: str,
    fs: Any,
    hints: SettingHints,
    must_have_objects: bool = False,
    must_write: bool = False,
) -> None:
    """Check that an S3 root can be used, asking S3 at most three times.

    Args:
        setting: Name of the setting that chose ``url``, for the message.
        url: ``s3://bucket/prefix``.
        fs: The s3fs filesystem the data will go through (its options are reused).
        hints: Where each kind of problem is fixed.
        must_have_objects: Fail if nothing is stored under the prefix (an input root).
        must_write: Write and delete a marker object (an output root), which also
            checks the write (encryption) arguments.

    Raises:
        StorageSettingError: The first problem found, naming the setting to fix.
    """
    bucket, prefix = uris.split(url)
    if not bucket:
        raise StorageSettingError(f"{setting} {url!r}: no bucket in the URL — set {hints.bucket}")
    probe = fail_fast(fs)
    try:
        listing = probe.call_s3(
            "list_objects_v2", Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", MaxKeys=1
        )
        if must_have_objects and not listing.get("KeyCount", len(listing.get("Contents", []))):
            raise StorageSettingError(
                f"{setting} {url}: no objects under prefix '{prefix}/' in bucket '{bucket}' "
                f"— upload the tree (`waveshard upload`) or set {hints.prefix}"
            )
        if must_write:
            marker = f"{bucket}/{prefix}/.waveshard-write-check-{uuid.uuid4().hex}".replace(
                "//", "/"
            )
            probe.pipe_file(marker, b"")
            # A put-only role may not delete; the write itself worked.
            with contextlib.suppress(Exception):
                probe.rm_file(marker)
    except StorageSettingError:
        raise
    except Exception as exc:
        raise explain(exc, setting=setting, url=url, fs=probe, hints=hints) from None


def s3_filesystem(url: str, storage_options: dict[str, Any] | None = None) -> Any:
    """The fsspec filesystem of ``url`` with ``storage_options`` (not cached)."""
    fs, _ = fsspec.core.url_to_fs(url, **(storage_options or {}))
    return fs

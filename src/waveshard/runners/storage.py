"""The few storage operations the runner needs, on S3 (boto3) or a local folder.

boto3 picks the endpoint from ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL`` and the
credentials from the standard chain, so the same code talks to AWS or moto.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from waveshard.uris import is_s3, join
from waveshard.uris import split as _split

_local = threading.local()


def _client():
    # One client per thread: boto3 clients are thread-safe but sessions are not.
    if getattr(_local, "client", None) is None:
        import boto3
        from botocore.config import Config

        _local.client = boto3.session.Session().client(
            "s3", config=Config(retries={"mode": "adaptive", "max_attempts": 10})
        )
    return _local.client


def local_path(uri: str) -> Path:
    return Path(uri[len("file://") :] if uri.startswith("file://") else uri)


@dataclass(frozen=True)
class Listing:
    """Files below a prefix: count, bytes and distinct first-level entries."""

    files: int
    bytes: int
    entries: int


def list_prefix(uri: str) -> Listing:
    """Count files and bytes below ``uri`` (one paginated listing on S3)."""
    files = size = 0
    entries: set[str] = set()
    for rel, nbytes in walk(uri):
        files += 1
        size += nbytes
        entries.add(rel.split("/", 1)[0])
    return Listing(files, size, len(entries))


def walk(uri: str):
    """Every file below ``uri``: its key relative to ``uri``, and its size."""
    if is_s3(uri):
        bucket, key = _split(uri)
        prefix = key.rstrip("/") + "/" if key else ""
        pages = _client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield obj["Key"][len(prefix) :], int(obj["Size"])
        return
    root = local_path(uri)
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                yield path.relative_to(root).as_posix(), path.stat().st_size


def read_text(uri: str) -> str | None:
    """The text of a file, or ``None`` if it does not exist."""
    if is_s3(uri):
        bucket, key = _split(uri)
        client = _client()
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except client.exceptions.NoSuchKey:
            return None
    path = local_path(uri)
    return path.read_text() if path.is_file() else None


def put_text(text: str, uri: str) -> None:
    """Write a small text file (UTF-8)."""
    if is_s3(uri):
        bucket, key = _split(uri)
        _client().put_object(Bucket=bucket, Key=key, Body=text.encode())
        return
    target = local_path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def download_manifest(uri: str, target: Path) -> int:
    """Copy the files a SageMaker ManifestFile lists into ``target``, as File mode does.

    The manifest is a JSON list: ``{"prefix": <prefix>}`` then keys relative to it;
    each lands at ``target/<key>``.
    """
    import json

    entries = json.loads(read_text(uri) or "[]")
    prefix = entries[0]["prefix"]
    target.mkdir(parents=True, exist_ok=True)
    for rel in entries[1:]:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        source = join(prefix, rel)
        if is_s3(source):
            bucket, key = _split(source)
            _client().download_file(bucket, key, str(dest))
        else:
            shutil.copyfile(local_path(source), dest)
    return len(entries) - 1


def put_file(source: Path, uri: str) -> None:
    if is_s3(uri):
        bucket, key = _split(uri)
        _client().upload_file(str(source), bucket, key)
        return
    target = local_path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def exists(uri: str) -> bool:
    if is_s3(uri):
        bucket, key = _split(uri)
        client = _client()
        try:
            client.head_object(Bucket=bucket, Key=key)
            return True
        except client.exceptions.ClientError:
            return False
    return local_path(uri).exists()


def delete(uri: str) -> None:
    """Remove one file (no error if it is already gone)."""
    if is_s3(uri):
        bucket, key = _split(uri)
        _client().delete_object(Bucket=bucket, Key=key)
        return
    local_path(uri).unlink(missing_ok=True)


def download_prefix(uri: str, target: Path) -> int:
    """Copy every file below ``uri`` into ``target`` (keys relative to the prefix)."""
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for rel, _ in walk(uri):
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if is_s3(uri):
            bucket, key = _split(join(uri, rel))
            _client().download_file(bucket, key, str(dest))
        else:
            shutil.copyfile(local_path(uri) / rel, dest)
        count += 1
    return count


def upload_folder(source: Path, uri: str) -> int:
    """Copy every file below ``source`` to ``uri`` (as SageMaker's EndOfJob upload does)."""
    count = 0
    for path in sorted(source.rglob("*")):
        if path.is_file():
            put_file(path, join(uri, path.relative_to(source).as_posix()))
            count += 1
    return count

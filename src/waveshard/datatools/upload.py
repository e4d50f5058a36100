"""``waveshard upload``: copy a local raw tree to an S3 prefix, resumably and in parallel."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waveshard.datatools.s3check import (
    SettingHints,
    StorageSettingError,
    check_s3_root,
    s3_filesystem,
)
from waveshard.uris import is_s3


@dataclass(frozen=True, kw_only=True)
class UploadReport:
    """What one upload did.

    Attributes:
        files: Files found in the local tree.
        uploaded: Files sent.
        skipped: Files already at the destination with the same size.
        bytes_uploaded: Bytes sent.
        seconds: Wall time.
    """

    files: int
    uploaded: int
    skipped: int
    bytes_uploaded: int
    seconds: float


@dataclass(frozen=True)
class _Item:
    local: Path
    key: str
    size: int


def local_files(source: Path) -> list[tuple[Path, str, int]]:
    """Every file below ``source`` as (path, POSIX path relative to source, size).

    Hidden files and folders (``.DS_Store``, ``.ipynb_checkpoints``) are left out.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            found.append((path, path.relative_to(source).as_posix(), path.stat().st_size))
    return found


def upload_tree(
    *,
    source: Path,
    dest: str,
    storage_options: dict[str, Any] | None = None,
    workers: int = 8,
    on_progress: Callable[[int, int], None] | None = None,
    on_plan: Callable[[int, int, int], None] | None = None,
) -> UploadReport:
    """Upload ``source/<group>/<record>/...`` to ``dest/<group>/<record>/...``.

    The destination is listed once (one paginated listing); objects that exist
    with the local file's size are skipped, so an interrupted upload resumes
    where it stopped. Each file is one S3 object, visible only once complete.

    Args:
        source: Local folder (the raw root, holding group folders).
        dest: ``s3://bucket/prefix`` (any fsspec URL works).
        storage_options: fsspec options (credentials, ``endpoint_url``...).
        workers: Files uploaded at once.
        on_progress: Called with (files done, bytes done) increments.
        on_plan: Called once with (files to upload, their bytes, files skipped).

    Returns:
        Counts and timing.

    Raises:
        StorageSettingError: The destination cannot be used (bucket, credentials,
            endpoint), named with the option to fix.
        FileNotFoundError: ``source`` is not a folder.
    """
    started = time.perf_counter()
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(
            f"upload: source {source} is not a folder — pass an existing --from"
        )
    dest = dest.rstrip("/")
    fs = s3_filesystem(dest, storage_options)
    if is_s3(dest):
        check_s3_root(
            setting="--to",
            url=dest,
            fs=fs,
            hints=SettingHints(
                bucket="--to s3://<existing bucket>/<prefix> "
                "(or raw_bucket in conf/aws/globals.yml)",
                prefix="--to",
                credentials="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, "
                "or the `s3` entry of conf/local/credentials.yml",
                endpoint="--endpoint-url or AWS_ENDPOINT_URL (or s3.endpoint_url in "
                "conf/aws/globals.yml)",
            ),
        )
    root = fs._strip_protocol(dest).rstrip("/")
    existing = _remote_sizes(fs, root)
    todo: list[_Item] = []
    skipped = 0
    files = local_files(source)
    for path, rel, size in files:
        key = f"{root}/{rel}"
        if existing.get(key) == size:
            skipped += 1
        else:
            todo.append(_Item(path, key, size))
    if on_plan is not None:
        on_plan(len(todo), sum(i.size for i in todo), skipped)

    def send(item: _Item) -> _Item:
        fs.put_file(str(item.local), item.key)
        return item

    sent = 0
    # Biggest first: the long transfers start early and the tail is short.
    todo.sort(key=lambda i: -i.size)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(send, item) for item in todo]
        try:
            for future in as_completed(futures):
                item = future.result()
                sent += item.size
                if on_progress is not None:
                    on_progress(1, item.size)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return UploadReport(
        files=len(files),
        uploaded=len(todo),
        skipped=skipped,
        bytes_uploaded=sent,
        seconds=time.perf_counter() - started,
    )


def _remote_sizes(fs: Any, root: str) -> dict[str, int]:
    try:
        found = fs.find(root, detail=True)
    except FileNotFoundError:
        return {}
    except PermissionError as exc:
        raise StorageSettingError(f"--to {root}: cannot list the destination ({exc})") from None
    return {path: int(info.get("size") or 0) for path, info in found.items()}

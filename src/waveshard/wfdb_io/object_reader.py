"""Concurrent, retried reads of objects and byte ranges from an async fsspec filesystem.

One :class:`ObjectReader` per process and filesystem issues its requests on
fsspec's event-loop thread, at most ``max_requests`` at a time, and returns
``concurrent.futures`` futures, so a caller can keep many reads in flight while it
computes. Objects larger than ``part_bytes`` are read as several ranges at once
(S3 serves each connection at a limited rate).

Retries happen here and only here. For S3 the reader opens its own ``s3fs``
filesystem with botocore's retries off (``total_max_attempts: 1``) and calls
``get_object`` directly, bypassing s3fs's retry wrapper: otherwise botocore
(status errors), s3fs's ``_call_s3`` and s3fs's ``_cat_file`` (body errors) would
each retry, one inside the other, up to 125 attempts for one persistently failing
object. Every transient failure of a request, whether before the body (5xx,
``SlowDown``, refused connection) or inside it (reset, body shorter than its
``Content-Length``), gets :class:`~waveshard.wfdb_io.retry.RetryPolicy`'s
backoff with full jitter; what still fails becomes a
:class:`~waveshard.wfdb_io.retry.StorageReadError`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import threading
from typing import Any, ClassVar

from waveshard.wfdb_io.retry import RetryPolicy, StorageReadError, describe, is_transient

#: Requests in flight per process and filesystem. Enough to hide ~20 ms to first
#: byte behind S3-like throughput for segments of a few hundred kB.
MAX_REQUESTS = 32
#: Objects above this size are fetched as concurrent ranges of this size.
PART_BYTES = 8 * 1024 * 1024


def is_object_store(fs: Any) -> bool:
    """Whether ``fs`` is an async fsspec filesystem (S3, GCS, HTTP...), not local disk."""
    return bool(getattr(fs, "async_impl", False))


def _is_s3(fs: Any) -> bool:
    try:
        from s3fs import S3FileSystem
    except ImportError:  # pragma: no cover - s3fs is a dependency
        return False
    return isinstance(fs, S3FileSystem)


def _reading_fs(fs: Any, max_requests: int) -> Any:
    """The filesystem the reader talks through.

    For S3, a private copy of ``fs`` (same credentials and endpoint) whose
    connection pool holds ``max_requests`` connections and whose botocore client
    does not retry, since the reader does.
    """
    if not _is_s3(fs):
        return fs
    options = dict(fs.storage_options)
    config = dict(options.get("config_kwargs") or {})
    config["max_pool_connections"] = max(max_requests, int(config.get("max_pool_connections", 0)))
    config["retries"] = {"mode": "standard", "total_max_attempts": 1}
    options["config_kwargs"] = config
    return type(fs)(**options, skip_instance_cache=True)


class ObjectReader:
    """Reads whole objects or byte ranges, many at a time, each with retries.

    Args:
        fs: An async fsspec filesystem (``is_object_store(fs)``).
        max_requests: Requests in flight at most.
        policy: Attempts and backoff of each request.
        part_bytes: Objects of known size above this are read as ranges this large.
    """

    _shared: ClassVar[dict[tuple[Any, int], ObjectReader]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        fs: Any,
        max_requests: int = MAX_REQUESTS,
        policy: RetryPolicy | None = None,
        part_bytes: int = PART_BYTES,
    ) -> None:
        if not is_object_store(fs):
            raise TypeError(f"{type(fs).__name__} is not an async fsspec filesystem")
        if max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        self._fs = _reading_fs(fs, max_requests)
        self._s3 = _is_s3(self._fs)
        self._loop = self._fs.loop
        self._max_requests = max_requests
        self._slots: asyncio.Semaphore | None = None
        self._policy = policy or RetryPolicy()
        self._part_bytes = part_bytes
        self._rng = random.Random()

    @classmethod
    def shared(cls, fs: Any, max_requests: int = MAX_REQUESTS) -> ObjectReader:
        """The process's reader for ``fs``: its connections are reused across shards."""
        key = (fs, max_requests)
        with cls._shared_lock:
            reader = cls._shared.get(key)
            if reader is None:
                reader = cls._shared[key] = cls(fs, max_requests)
            return reader

    def url(self, path: str) -> str:
        return self._fs.unstrip_protocol(path)

    def submit(
        self, path: str, start: int = 0, end: int | None = None, size: int | None = None
    ) -> concurrent.futures.Future:
        """Start reading ``path[start:end]``; the future gives bytes (or bytearray).

        ``size`` is the object's size when known (from a listing): a whole-object
        read larger than ``part_bytes`` is then split into concurrent ranges.
        """
        return asyncio.run_coroutine_threadsafe(self._read(path, start, end, size), self._loop)

    def read(self, path: str, start: int = 0, end: int | None = None) -> bytes:
        """Read ``path[start:end]`` now (with retries)."""
        return self.submit(path, start, end).result()

    def read_many(self, paths: list[str]) -> dict[str, bytes | Exception]:
        """Read whole objects concurrently; a path that fails maps to its exception."""
        futures = {path: self.submit(path) for path in paths}
        found: dict[str, bytes | Exception] = {}
        for path, future in futures.items():
            try:
                found[path] = future.result()
            except Exception as exc:  # one unreadable object is that object's problem
                found[path] = exc
        return found

    async def _read(
        self, path: str, start: int, end: int | None, size: int | None
    ) -> bytes | bytearray:
        whole = start == 0 and end is None
        if not (whole and size is not None and size > self._part_bytes):
            return await self._with_retries(path, start, end)
        buffer = bytearray(size)

        async def part(offset: int) -> None:
            stop = min(offset + self._part_bytes, size)
            data = await self._with_retries(path, offset, stop)
            if len(data) != stop - offset:
                raise OSError(
                    f"{self.url(path)}: {len(data)} bytes at offset {offset} where the listing "
                    f"promised {stop - offset}; the object changed since it was listed, rerun"
                )
            buffer[offset:stop] = data

        await asyncio.gather(*(part(offset) for offset in range(0, size, self._part_bytes)))
        return buffer

    async def _with_retries(self, path: str, start: int, end: int | None) -> bytes:
        if self._slots is None:  # created on the loop's thread, where it is used
            self._slots = asyncio.Semaphore(self._max_requests)
        policy = self._policy
        for attempt in range(1, policy.attempts + 1):
            try:
                async with self._slots:
                    return await self._get(path, start, end)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if attempt == policy.attempts:
                    # The fix before the detail: error tables bound their messages.
                    raise StorageReadError(
                        f"{self.url(path)}: read failed {attempt} times with transient storage "
                        f"errors; rerun the group to retry it. Last: {describe(exc, 160)}"
                    ) from exc
                # Wait outside the slot: other reads go on meanwhile.
                await asyncio.sleep(policy.wait_s(attempt, self._rng))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get(self, path: str, start: int, end: int | None) -> bytes:
        if end is not None and end <= start:
            return b""
        if not self._s3:
            return await self._fs._cat_file(path, start=start or None, end=end)
        fs = self._fs
        bucket, key, version = fs.split_path(path)
        await fs.set_session()
        client = await fs.get_s3(bucket)
        request = {"Bucket": bucket, "Key": key, **fs.req_kw}
        if version:
            request["VersionId"] = version
        if start or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = await client.get_object(**request)
        except Exception as exc:
            if is_transient(exc) or getattr(exc, "response", None) is None:
                raise
            from s3fs.errors import translate_boto_error

            # As s3fs words them: NoSuchKey -> FileNotFoundError, AccessDenied -> PermissionError.
            message = exc.response.get("Error", {}).get("Message") or str(exc)
            raise translate_boto_error(exc, message=f"{self.url(path)}: {message}") from exc
        body = response["Body"]
        try:
            return await body.read()
        finally:
            body.close()

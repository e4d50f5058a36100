"""Which storage errors are worth another try, and how long to wait before it.

Object stores fail transiently: S3 answers ``503 SlowDown`` when a prefix is read
faster than it has scaled to, ``500 InternalError`` now and then, and connections
break or end early under load. These are retried with exponential backoff and full
jitter (a random wait between 0 and ``min(cap, base * 2**retry)``, so that
workers that failed together do not come back together). Everything else (a
missing object, a refused credential, a bad range) fails at once.
"""

from __future__ import annotations

import asyncio
import http.client
import random
from dataclasses import dataclass

#: S3 error codes that mean "try again later" (throttling and server-side trouble).
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "PriorRequestNotComplete",
    }
)


class StorageReadError(OSError):
    """A read that kept failing with transient errors after every attempt."""


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and backoff of one read.

    Attributes:
        attempts: Tries in all, the first included.
        base_s: Upper bound of the first wait; each retry doubles it.
        cap_s: Upper bound of any single wait.
    """

    attempts: int = 8
    base_s: float = 0.1
    cap_s: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")

    def wait_s(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2 ** (retry - 1)))


def _transient_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [
        ConnectionError,  # reset, refused, aborted, broken pipe
        TimeoutError,
        asyncio.TimeoutError,
        http.client.IncompleteRead,
    ]
    try:
        from botocore import exceptions as boto

        types += [boto.HTTPClientError, boto.ConnectionError, boto.IncompleteReadError]
    except ImportError:  # pragma: no cover - botocore comes with s3fs
        pass
    try:
        import aiohttp

        types.append(aiohttp.ClientError)  # payload cut short, server disconnected
    except ImportError:  # pragma: no cover - aiohttp comes with s3fs
        pass
    return tuple(types)


_TRANSIENT_TYPES = _transient_types()


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a storage failure that another attempt may not meet."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:  # botocore ClientError
        code = str(response["Error"].get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in TRANSIENT_CODES or int(status) >= 500
    return isinstance(exc, _TRANSIENT_TYPES)


def describe(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` on one line, at most ``limit`` characters."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

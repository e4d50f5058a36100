"""Storage locations as users write them: local paths and ``s3://`` URLs.

The one place that knows what an S3 URL looks like; the data tools, the hooks
and the runner all ask here.
"""

from __future__ import annotations

import re

#: URL schemes that name an S3 object (s3fs reads both; ``s3a`` is Hadoop's spelling).
S3_SCHEMES = ("s3://", "s3a://")
_SLASHES = re.compile(r"/{2,}")


def is_s3(location: str) -> bool:
    """Whether ``location`` is an S3 URL (``s3://`` or ``s3a://``)."""
    return str(location).startswith(S3_SCHEMES)


def normalize(location: str) -> str:
    """``location`` without repeated or trailing slashes (the scheme's ``//`` kept).

    ``s3://bucket/mimic3wdb/1.0/`` and ``s3://bucket//mimic3wdb/1.0`` name the same
    prefix as ``s3://bucket/mimic3wdb/1.0``; joining a group id to the first two
    would otherwise name a prefix that holds nothing.
    """
    location = str(location)
    scheme, sep, rest = location.partition("://")
    if not sep:
        scheme, rest = "", location
    cleaned = _SLASHES.sub("/", rest)
    if len(cleaned) > 1:
        cleaned = cleaned.rstrip("/")
    return f"{scheme}{sep}{cleaned}"


def split(url: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` → ``("bucket", "a/b")``."""
    _, _, rest = str(url).partition("://")
    bucket, _, key = (rest or url).partition("/")
    return bucket, key.strip("/")


def join(location: str, *parts: str) -> str:
    """``location`` and path parts joined with single slashes."""
    return "/".join([str(location).rstrip("/"), *(p.strip("/") for p in parts if p.strip("/"))])

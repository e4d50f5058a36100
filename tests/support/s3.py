"""A real S3 API on loopback for tests: moto's threaded server, buckets, env for subprocesses.

The ``moto_s3`` and ``s3_env`` fixtures (tests/conftest.py) start one server per test
session. s3fs speaks real HTTP to it, as it does to AWS.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: Fake credentials; moto accepts any unless IAM simulation is on.
FAKE_KEY = "AKIAWAVESHARDTESTKEY"
FAKE_SECRET = "waveshard-test-secret-do-not-log-0123456789"
REGION = "us-east-1"


@dataclass
class MotoS3:
    """A running moto server.

    Attributes:
        endpoint_url: ``http://127.0.0.1:<port>``.
        server: The ``ThreadedMotoServer``.
    """

    endpoint_url: str
    server: Any

    def stop(self) -> None:
        self.server.stop()

    def reset(self) -> None:
        """Forget every bucket, object and job (moto's reset API)."""
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=30).read()

    def client(self) -> Any:
        """A boto3 S3 client of this server (fake credentials)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=FAKE_KEY,
            aws_secret_access_key=FAKE_SECRET,
            region_name=REGION,
        )

    def bucket(self, prefix: str = "waveshard") -> str:
        """Create a bucket with a fresh name and return the name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> dict[str, int]:
        """Every key under ``prefix`` with its size."""
        found: dict[str, int] = {}
        pages = self.client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=bucket, Prefix=prefix):
            found.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        return found


def start_moto_server() -> MotoS3:
    """Start moto's S3 server on 127.0.0.1 and a free port."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs one line per request otherwise.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return MotoS3(endpoint_url=f"http://{host}:{port}", server=server)


def aws_env(endpoint_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for code (or a subprocess) that must only reach ``endpoint_url``.

    Fake credentials and region, the endpoint through the standard
    ``AWS_ENDPOINT_URL``, no shared config or profile, and no instance-metadata
    lookups, so nothing ever tries a remote address.
    """
    env = {k: v for k, v in (base if base is not None else os.environ).items()}
    for var in list(env):
        if var.startswith("AWS_") or var.lower() in {"http_proxy", "https_proxy"}:
            env.pop(var)
    env.update(
        AWS_ACCESS_KEY_ID=FAKE_KEY,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
        AWS_DEFAULT_REGION=REGION,
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        DO_NOT_TRACK="1",
        KEDRO_DISABLE_TELEMETRY="1",
    )
    return env


@contextmanager
def iam_checks() -> Iterator[None]:
    """Make the (in-process) moto server reject unknown access keys, as AWS does."""
    from moto.core.authorization import enable_iam_authentication

    with enable_iam_authentication():
        yield


@contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    """Run a block with exactly ``env`` as ``os.environ`` (module-scoped fixtures)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    clear_s3fs_cache()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        clear_s3fs_cache()


def clear_s3fs_cache() -> None:
    """Forget cached s3fs instances (they keep the credentials/endpoint they were made with)."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()

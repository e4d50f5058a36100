"""Helpers of the runner tests: the moto server seen by ``kedro run``, a tree on it.

Everything talks to moto's server on 127.0.0.1 (the ``moto_s3`` fixture) through
the standard ``AWS_ENDPOINT_URL``; no AWS account, no network.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support import cli
from tests.support.s3 import MotoS3, aws_env

RAW_BUCKET = "waveshard-raw"
RAW_PREFIX = "mimic3wdb/1.0"
OUT_BUCKET = "waveshard-features"
OUT_PREFIX = "waveshard"
ROLE = "arn:aws:iam::123456789012:role/waveshard-processing"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/waveshard:test"


@dataclass
class Moto:
    """The running moto server and the environment pointing ``kedro run`` at it."""

    s3: MotoS3
    env: dict[str, str]

    raw: Path | None = None

    @classmethod
    def of(cls, server: MotoS3) -> Moto:
        # Only what points boto3/s3fs at the server; the rest of os.environ stays.
        env = {
            k: v for k, v in aws_env(server.endpoint_url, base={}).items() if k.startswith("AWS_")
        }
        return cls(server, env)

    @property
    def url(self) -> str:
        return self.s3.endpoint_url

    def recorded(self) -> list[dict]:
        """Requests moto recorded since recording started (moto's recorder API)."""
        with urllib.request.urlopen(f"{self.url}/moto-api/recorder/download-recording") as r:
            lines = r.read().decode().splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
        for entry in entries:
            if entry.get("body_encoded"):
                entry["body"] = base64.b64decode(entry["body"]).decode("utf-8", "replace")
        return entries

    def start_recording(self) -> None:
        for action in ("reset-recording", "start-recording"):
            req = urllib.request.Request(f"{self.url}/moto-api/recorder/{action}", method="POST")
            urllib.request.urlopen(req).read()


def s3_client(moto: Moto):
    return moto.s3.client()


def upload_tree(moto: Moto, root: Path, bucket: str, prefix: str) -> int:
    """Upload every file of ``root`` under ``s3://bucket/prefix/``; create the bucket."""
    client = s3_client(moto)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
    count = 0
    for path in sorted(root.rglob("*")):
        if path.is_file():
            client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(root).as_posix()}")
            count += 1
    return count


def make_buckets(moto: Moto, *names: str) -> None:
    client = s3_client(moto)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for name in set(names) - existing:
        client.create_bucket(Bucket=name)


def list_keys(moto: Moto, bucket: str, prefix: str = "") -> dict[str, int]:
    return moto.s3.keys(bucket, prefix)


def get_bytes(moto: Moto, bucket: str, key: str) -> bytes:
    return s3_client(moto).get_object(Bucket=bucket, Key=key)["Body"].read()


def kedro_run(
    args: list[str], *, env: dict[str, str], cwd: Path | None = None, timeout: float = 600
) -> cli.Result:
    """``kedro run <args>`` in a subprocess, with ``env`` on top of this process's."""
    options = {"cwd": cwd} if cwd is not None else {}
    return cli.kedro("run", *args, env=env, timeout=timeout, **options)


def runner_args(**params: object) -> list[str]:
    """``--runner waveshard.runners.ProcessingJobRunner --runner-params k=v,...``."""
    text = ",".join(f"{k}={v}" for k, v in params.items())
    return ["--runner", "waveshard.runners.ProcessingJobRunner", "--runner-params", text]

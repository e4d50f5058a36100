"""Helpers of the runner tests: a moto server, a sample tree on it, ``kedro run``.

Everything talks to moto's server on 127.0.0.1 (started by tests/s3_support.py)
through the standard ``AWS_ENDPOINT_URL``; no AWS account, no network.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.s3_support import MotoS3, aws_env, start_moto_server

RAW_BUCKET = "waveshard-raw"
RAW_PREFIX = "mimic3wdb/1.0"
OUT_BUCKET = "waveshard-features"
OUT_PREFIX = "waveshard"
ROLE = "arn:aws:iam::123456789012:role/waveshard-processing"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/waveshard:test"


@dataclass
class Moto:
    """A running moto server (tests/s3_support.py) and the environment pointing at it."""

    s3: MotoS3
    env: dict[str, str]

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


@contextmanager
def moto_server() -> Iterator[Moto]:
    """moto's threaded server on a free port of 127.0.0.1, with request recording."""
    previous = os.environ.get("MOTO_ENABLE_RECORDING")
    os.environ["MOTO_ENABLE_RECORDING"] = "True"
    server = start_moto_server()
    # Only what points boto3/s3fs at the server; the rest of os.environ stays.
    env = {k: v for k, v in aws_env(server.endpoint_url, base={}).items() if k.startswith("AWS_")}
    try:
        yield Moto(server, env)
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("MOTO_ENABLE_RECORDING", None)
        else:
            os.environ["MOTO_ENABLE_RECORDING"] = previous


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
    for name in names:
        client.create_bucket(Bucket=name)


def list_keys(moto: Moto, bucket: str, prefix: str = "") -> dict[str, int]:
    return moto.s3.keys(bucket, prefix)


def get_bytes(moto: Moto, bucket: str, key: str) -> bytes:
    return s3_client(moto).get_object(Bucket=bucket, Key=key)["Body"].read()


@dataclass
class Result:
    code: int
    output: str


def kedro_run(
    args: list[str], *, env: dict[str, str], cwd: Path = PROJECT_ROOT, timeout: float = 600
) -> Result:
    """``kedro run <args>`` in a subprocess of this interpreter's environment."""
    full_env = {**os.environ, **env, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    kedro = Path(sys.executable).with_name("kedro")
    proc = subprocess.run(
        [str(kedro), "run", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout + proc.stderr)


def runner_args(**params: object) -> list[str]:
    """``--runner waveshard.runners.ProcessingJobRunner --runner-params k=v,...``."""
    text = ",".join(f"{k}={v}" for k, v in params.items())
    return ["--runner", "waveshard.runners.ProcessingJobRunner", "--runner-params", text]

"""Pytest plugin: a moto S3 server per test session.

Load it from a test module with ``pytest_plugins = ["tests.s3_fixtures"]``.

Fixtures:
    moto_s3: The running server (:class:`tests.s3_support.MotoS3`): ``endpoint_url``,
        ``bucket()``, ``keys()``, ``client()``.
    s3_env: The test process pointed at that server (fake credentials,
        ``AWS_ENDPOINT_URL``) through monkeypatch; returns the env dict, which also
        suits ``subprocess.run(..., env=s3_env)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.s3_support import MotoS3, aws_env, clear_s3fs_cache, start_moto_server


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    env = aws_env(moto_s3.endpoint_url)
    for var in list(os.environ):
        if var not in env:
            monkeypatch.delenv(var)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    clear_s3fs_cache()
    yield env
    clear_s3fs_cache()

"""Fixtures shared by every test: the real records as a MIMIC-III tree, the sample, moto."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# moto's request recorder (used by the runner tests) writes to ./moto_recording unless
# told otherwise, and reads the setting when moto is first imported.
os.environ.setdefault(
    "MOTO_RECORDER_FILEPATH", os.path.join(tempfile.mkdtemp(prefix="waveshard-moto-"), "rec")
)

from tests.support.paths import arrange_physionet
from tests.support.s3 import MotoS3, aws_env, clear_s3fs_cache, start_moto_server


@pytest.fixture(scope="session")
def physionet_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real records as a read-only-by-convention MIMIC-III tree (groups 30, 32, 39)."""
    return arrange_physionet(tmp_path_factory.mktemp("physionet") / "raw")


@pytest.fixture(scope="session")
def sample_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly generated sample tree, as `waveshard make-sample` writes it."""
    from waveshard.datatools.sample import write_sample_tree

    root = tmp_path_factory.mktemp("sample") / "raw"
    write_sample_tree(root)
    return root


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[MotoS3]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def moto_s3(_moto_server: MotoS3) -> MotoS3:
    """moto's S3 (and SageMaker) API server on 127.0.0.1, empty for each test module.

    One server per test session; its state is reset when a module first asks for it,
    so the fixed bucket names of conf/aws (waveshard-raw, waveshard-features) never
    hold another module's objects.
    """
    _moto_server.reset()
    return _moto_server


@pytest.fixture
def s3_env(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """This process pointed at :func:`moto_s3` only (fake credentials, endpoint).

    Returns the environment, which also suits a subprocess (``env=s3_env``).
    """
    env = aws_env(moto_s3.endpoint_url)
    for var in list(os.environ):
        if var not in env:
            monkeypatch.delenv(var)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    clear_s3fs_cache()
    yield env
    clear_s3fs_cache()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A skipped test fails the run: a clone must run the whole suite, data included."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"tests never skip here, yet this one did: {report.longrepr}"

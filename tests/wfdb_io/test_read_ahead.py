"""Read-ahead of a shard's data files: what it fetches, how much, and that it changes no byte."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.s3 import FAKE_KEY, FAKE_SECRET, MotoS3, aws_env, environ
from tests.support.s3_proxy import S3Proxy
from waveshard.datatools.upload import upload_tree
from waveshard.wfdb_io.discovery import discover_segments
from waveshard.wfdb_io.object_reader import ObjectReader
from waveshard.wfdb_io.read_ahead import ReadAhead, ReadAheadFolder, reading_ahead
from waveshard.wfdb_io.storage import GroupFolder

PREFIX = "mimic3wdb/1.0"


@pytest.fixture(scope="module")
def raw_bucket(physionet_tree: Path, moto_s3: MotoS3) -> str:
    bucket = moto_s3.bucket("readahead")
    with environ(aws_env(moto_s3.endpoint_url)):
        upload_tree(source=physionet_tree, dest=f"s3://{bucket}/{PREFIX}", workers=8)
    return bucket


@pytest.fixture(scope="module")
def slow_proxy(moto_s3: MotoS3) -> Iterator[S3Proxy]:
    """100 ms to every first byte: reads that overlap show up as requests in flight."""
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.1, bandwidth=None) as proxy:
        yield proxy


def _s3_folder(bucket: str, endpoint_url: str, group: str = "39") -> GroupFolder:
    options = {"key": FAKE_KEY, "secret": FAKE_SECRET, "endpoint_url": endpoint_url}
    return GroupFolder.scan(group, f"s3://{bucket}/{PREFIX}/{group}", options)


def _data_tasks(folder: GroupFolder):
    tasks = [t for t in discover_segments(folder).tasks if t.header.sig_len > 0]
    assert len(tasks) >= 10
    return tasks


def test_local_folders_and_a_zero_budget_are_left_alone(physionet_tree: Path, raw_bucket, moto_s3):
    local = GroupFolder.scan("39", str(physionet_tree / "39"))
    with reading_ahead(local, discover_segments(local).tasks, 64_000_000) as source:
        assert source is local
    remote = _s3_folder(raw_bucket, moto_s3.endpoint_url)
    with reading_ahead(remote, discover_segments(remote).tasks, 0) as source:
        assert source is remote
    with reading_ahead(remote, discover_segments(remote).tasks, 1_000_000) as source:
        assert isinstance(source, ReadAheadFolder)


def test_served_bytes_equal_direct_reads(raw_bucket: str, slow_proxy: S3Proxy) -> None:
    folder = _s3_folder(raw_bucket, slow_proxy.endpoint_url)
    tasks = _data_tasks(folder)
    with reading_ahead(folder, tasks, 64_000_000) as source:
        for task in tasks:
            for rel in task.dat_paths:
                assert source.read_bytes(rel) == folder.read_bytes(rel)
                # A file read twice: the second read goes to the store.
                assert source.read_bytes(rel, 3, 9) == folder.read_bytes(rel, 3, 9)


def test_a_large_budget_keeps_many_reads_in_flight(raw_bucket: str, slow_proxy: S3Proxy) -> None:
    folder = _s3_folder(raw_bucket, slow_proxy.endpoint_url)
    tasks = _data_tasks(folder)
    slow_proxy.stats["in_flight_peak"] = 0
    with reading_ahead(folder, tasks, 64_000_000) as source:
        for task in tasks:
            source.read_bytes(task.dat_paths[0])
    assert slow_proxy.stats["in_flight_peak"] >= 8


def test_the_budget_bounds_what_is_fetched_ahead(raw_bucket: str, slow_proxy: S3Proxy) -> None:
    folder = _s3_folder(raw_bucket, slow_proxy.endpoint_url)
    tasks = _data_tasks(folder)
    sizes = sorted(t.dat_bytes for t in tasks)
    budget = sizes[len(sizes) // 2]  # a median segment
    ahead = ReadAhead(ObjectReader.shared(folder.fs), folder, tasks, budget)
    seen = [(ahead.reserved_bytes, ahead.files_ahead)]
    for task in tasks:
        ahead.read(folder.path(task.dat_paths[0]))
        seen.append((ahead.reserved_bytes, ahead.files_ahead))
    ahead.close()
    # Over budget only with a single file, fetched alone because nothing else was waiting.
    assert all(reserved <= budget or files == 1 for reserved, files in seen)
    assert any(files > 1 for _, files in seen)
    assert ahead.reserved_bytes == 0 and ahead.files_ahead == 0

    slow_proxy.stats["in_flight_peak"] = 0
    with reading_ahead(folder, tasks, 1) as source:
        for task in tasks:
            source.read_bytes(task.dat_paths[0])
    # The file being read and a single one ahead, however small the budget.
    assert slow_proxy.stats["in_flight_peak"] == 2


def test_files_of_skipped_segments_are_let_go(raw_bucket: str, moto_s3: MotoS3) -> None:
    folder = _s3_folder(raw_bucket, moto_s3.endpoint_url)
    tasks = _data_tasks(folder)
    ahead = ReadAhead(ObjectReader.shared(folder.fs), folder, tasks, 64_000_000)
    assert ahead.files_ahead == len(tasks)
    # Segments 0..n-2 fail before reading (say, a bad header): reading the last lets go
    # of theirs.
    last = tasks[-1]
    assert ahead.read(folder.path(last.dat_paths[0])) == folder.read_bytes(last.dat_paths[0])
    assert ahead.files_ahead == 0 and ahead.reserved_bytes == 0

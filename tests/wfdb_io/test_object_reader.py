"""ObjectReader against moto's S3 server, with the test proxy breaking requests on purpose."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest
import s3fs

from tests.support.s3 import FAKE_KEY, FAKE_SECRET, MotoS3
from tests.support.s3_proxy import Fault, S3Proxy
from waveshard.wfdb_io.object_reader import ObjectReader, is_object_store
from waveshard.wfdb_io.retry import RetryPolicy, StorageReadError

BIG = os.urandom(1_000_000)
SMALL = {f"small/{i:03d}.hea": f"record_{i} 2 125 1000\n".encode() for i in range(40)}
#: Quick retries, so that a read that keeps failing fails within a second.
QUICK = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05)


@pytest.fixture(scope="module")
def bucket(moto_s3: MotoS3) -> str:
    name = moto_s3.bucket("reader")
    client = moto_s3.client()
    client.put_object(Bucket=name, Key="big.dat", Body=BIG)
    for key, body in SMALL.items():
        client.put_object(Bucket=name, Key=key, Body=body)
    return name


@pytest.fixture
def proxy(moto_s3: MotoS3) -> Iterator[S3Proxy]:
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.0, bandwidth=None) as running:
        yield running


def _fs(endpoint_url: str) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(
        key=FAKE_KEY, secret=FAKE_SECRET, endpoint_url=endpoint_url, skip_instance_cache=True
    )


def _reader(proxy: S3Proxy, **kwargs) -> ObjectReader:
    kwargs.setdefault("policy", QUICK)
    return ObjectReader(_fs(proxy.endpoint_url), **kwargs)


def test_reads_whole_objects_ranges_and_parts(proxy: S3Proxy, bucket: str) -> None:
    reader = _reader(proxy, part_bytes=64 * 1024)
    assert reader.read(f"{bucket}/big.dat") == BIG
    assert reader.read(f"{bucket}/big.dat", 1000, 5000) == BIG[1000:5000]
    assert reader.read(f"{bucket}/big.dat", 999_000) == BIG[999_000:]
    assert reader.read(f"{bucket}/big.dat", 10, 10) == b""
    before = proxy.stats["requests"]
    # With its size known, a whole object is read as concurrent 64 KiB ranges.
    assert bytes(reader.submit(f"{bucket}/big.dat", size=len(BIG)).result()) == BIG
    assert proxy.stats["requests"] - before == -(-len(BIG) // (64 * 1024))


def test_read_many_keeps_many_requests_in_flight(moto_s3: MotoS3, bucket: str) -> None:
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.1, bandwidth=None) as proxy:
        reader = _reader(proxy, max_requests=8)
        found = reader.read_many([f"{bucket}/{key}" for key in SMALL])
        assert found == {f"{bucket}/{key}": body for key, body in SMALL.items()}
        assert proxy.stats["in_flight_peak"] == 8


@pytest.mark.parametrize("kind", ["slow_down", "internal_error", "reset", "truncate"])
def test_transient_faults_are_retried(proxy: S3Proxy, bucket: str, kind: str) -> None:
    fault = proxy.add_fault(Fault(kind, key=f"{bucket}/big.dat", times=2))
    reader = _reader(proxy)
    assert reader.read(f"{bucket}/big.dat") == BIG
    assert fault.fired == 2
    assert proxy.requests_per_key[f"GET {bucket}/big.dat"] == 3


def test_a_read_that_keeps_failing_is_tried_exactly_policy_attempts_times(
    proxy: S3Proxy, bucket: str
) -> None:
    proxy.add_fault(Fault("slow_down", key=f"{bucket}/small/000.hea"))
    reader = _reader(proxy)
    with pytest.raises(StorageReadError, match=r"read failed 4 times .*SlowDown"):
        reader.read(f"{bucket}/small/000.hea")
    # One retry layer: neither botocore nor s3fs retried underneath.
    assert proxy.requests_per_key[f"GET {bucket}/small/000.hea"] == QUICK.attempts


def test_read_many_maps_each_failure_to_its_object(proxy: S3Proxy, bucket: str) -> None:
    proxy.add_fault(Fault("internal_error", key=f"{bucket}/small/001.hea"))
    proxy.add_fault(Fault("reset", key=f"{bucket}/small/002.hea", times=1))
    reader = _reader(proxy)
    paths = [f"{bucket}/{key}" for key in SMALL] + [f"{bucket}/small/absent.hea"]
    found = reader.read_many(paths)
    assert isinstance(found[f"{bucket}/small/001.hea"], StorageReadError)
    assert isinstance(found[f"{bucket}/small/absent.hea"], FileNotFoundError)
    assert found[f"{bucket}/small/002.hea"] == SMALL["small/002.hea"]
    ok = {p: v for p, v in found.items() if not isinstance(v, Exception)}
    assert len(ok) == len(SMALL) - 1


class _RecordedWaits(RetryPolicy):
    """A policy that records every backoff it is asked for, and waits none."""

    def wait_s(self, retry: int, rng: random.Random) -> float:
        WAITS.append(super().wait_s(retry, rng))
        return 0.0


WAITS: list[float] = []


def test_missing_objects_fail_at_once(proxy: S3Proxy, bucket: str) -> None:
    WAITS.clear()
    reader = _reader(proxy, policy=_RecordedWaits(attempts=8, base_s=1.0))
    with pytest.raises(FileNotFoundError, match=r"absent\.dat"):
        reader.read(f"{bucket}/absent.dat")
    assert proxy.requests_per_key[f"GET {bucket}/absent.dat"] == 1
    assert WAITS == []  # no backoff was asked for


def test_local_disk_is_not_an_object_store(tmp_path) -> None:
    import fsspec

    assert not is_object_store(fsspec.filesystem("file"))
    assert is_object_store(_fs("http://127.0.0.1:9"))
    with pytest.raises(TypeError, match="not an async fsspec filesystem"):
        ObjectReader(fsspec.filesystem("file"))


def test_backoff_is_bounded_and_jittered() -> None:
    import random

    policy = RetryPolicy(attempts=8, base_s=0.1, cap_s=1.0)
    rng = random.Random(1)
    waits = [[policy.wait_s(retry, rng) for retry in range(1, 8)] for _ in range(200)]
    for retry in range(1, 8):
        column = [w[retry - 1] for w in waits]
        bound = min(1.0, 0.1 * 2 ** (retry - 1))
        assert all(0 <= w <= bound for w in column)
        assert len(set(column)) > 150  # jitter: waits differ between readers
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)

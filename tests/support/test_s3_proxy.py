"""The test proxy in front of moto's S3 server: relays, delays, paces and breaks on demand."""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.s3 import FAKE_KEY, FAKE_SECRET, REGION, MotoS3
from tests.support.s3_proxy import Fault, S3Proxy

BODY = os.urandom(300_000)


@pytest.fixture(scope="module")
def bucket(moto_s3: MotoS3) -> str:
    name = moto_s3.bucket("proxy")
    client = moto_s3.client()
    client.put_object(Bucket=name, Key="data/a.dat", Body=BODY)
    client.put_object(Bucket=name, Key="data/b.hea", Body=b"b 1 125 10\n")
    client.put_object(Bucket=name, Key="data/empty.dat", Body=b"")
    return name


@pytest.fixture
def proxy(moto_s3: MotoS3) -> Iterator[S3Proxy]:
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.0, bandwidth=None) as running:
        yield running


def _client(endpoint_url: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=FAKE_KEY,
        aws_secret_access_key=FAKE_SECRET,
        region_name=REGION,
        # Every attempt visible: the proxy's faults must reach the caller.
        config=Config(retries={"total_max_attempts": 1}),
    )


def _signed_path(proxy: S3Proxy, bucket: str, key: str) -> str:
    """A presigned GET of ``key``, as a path on the proxy (moto refuses anonymous reads)."""
    url = _client(proxy.endpoint_url).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}
    )
    return url.removeprefix(proxy.endpoint_url)


def _raw_get(
    proxy: S3Proxy, bucket: str, key: str
) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
    """GET with the standard library's client, which shows what arrives byte for byte."""
    host, port = proxy.endpoint_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", _signed_path(proxy, bucket, key))
    return conn.getresponse(), conn


def test_relays_objects_listings_and_writes_unchanged(proxy: S3Proxy, bucket: str) -> None:
    client = _client(proxy.endpoint_url)
    assert client.get_object(Bucket=bucket, Key="data/a.dat")["Body"].read() == BODY
    ranged = client.get_object(Bucket=bucket, Key="data/a.dat", Range="bytes=1000-1999")
    assert ranged["Body"].read() == BODY[1000:2000]
    assert client.get_object(Bucket=bucket, Key="data/empty.dat")["Body"].read() == b""
    assert client.head_object(Bucket=bucket, Key="data/a.dat")["ContentLength"] == len(BODY)
    listed = client.list_objects_v2(Bucket=bucket, Prefix="data/")
    assert sorted(o["Key"] for o in listed["Contents"]) == [
        "data/a.dat",
        "data/b.hea",
        "data/empty.dat",
    ]
    client.put_object(Bucket=bucket, Key="written/x.bin", Body=BODY[:5000])
    assert client.get_object(Bucket=bucket, Key="written/x.bin")["Body"].read() == BODY[:5000]


def test_keeps_client_connections_alive(proxy: S3Proxy, bucket: str) -> None:
    response, conn = _raw_get(proxy, bucket, "data/b.hea")
    assert response.read() == b"b 1 125 10\n"
    for _ in range(4):
        conn.request("GET", _signed_path(proxy, bucket, "data/a.dat"))
        assert conn.getresponse().read() == BODY
    conn.close()
    assert proxy.stats["requests"] == 5
    assert proxy.stats["connections"] == 1


def test_first_byte_waits_at_least_the_latency(moto_s3: MotoS3, bucket: str) -> None:
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.25, bandwidth=None) as proxy:
        started = time.monotonic()
        response, conn = _raw_get(proxy, bucket, "data/b.hea")
        first_byte = time.monotonic() - started
        response.read()
        conn.close()
    assert first_byte >= 0.25


def test_bodies_are_paced_to_the_bandwidth(moto_s3: MotoS3, bucket: str) -> None:
    with S3Proxy(moto_s3.endpoint_url, latency_s=0.0, bandwidth=1e6) as proxy:
        started = time.monotonic()
        response, conn = _raw_get(proxy, bucket, "data/a.dat")
        assert response.read() == BODY
        elapsed = time.monotonic() - started
        conn.close()
    # 300 kB at 1 MB/s; the last piece is paced too.
    assert elapsed >= 0.3 * 0.95


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("slow_down", 503, "SlowDown"), ("internal_error", 500, "InternalError")],
)
def test_error_faults_answer_as_s3_does(
    proxy: S3Proxy, bucket: str, kind: str, status: int, code: str
) -> None:
    fault = proxy.add_fault(Fault(kind, key="*/a.dat", times=2))
    client = _client(proxy.endpoint_url)
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            client.get_object(Bucket=bucket, Key="data/a.dat")
        assert raised.value.response["Error"]["Code"] == code
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    # Other keys are untouched, and after `times` firings the key reads again.
    assert client.get_object(Bucket=bucket, Key="data/b.hea")["Body"].read() == b"b 1 125 10\n"
    assert client.get_object(Bucket=bucket, Key="data/a.dat")["Body"].read() == BODY
    assert fault.fired == 2 and proxy.stats[kind] == 2


def test_reset_breaks_the_connection_inside_the_body(proxy: S3Proxy, bucket: str) -> None:
    proxy.add_fault(Fault("reset", key="*/a.dat", times=1, body_fraction=0.5))
    response, conn = _raw_get(proxy, bucket, "data/a.dat")
    assert response.status == 200
    assert int(response.getheader("Content-Length")) == len(BODY)
    received = b""
    with pytest.raises(ConnectionResetError):
        while chunk := response.read(16_384):
            received += chunk
        response.read()
    conn.close()
    assert 0 < len(received) <= len(BODY) // 2
    assert received == BODY[: len(received)]


def test_truncate_sends_part_of_the_body_then_closes(proxy: S3Proxy, bucket: str) -> None:
    proxy.add_fault(Fault("truncate", key="*/a.dat", times=1, body_fraction=0.25))
    response, conn = _raw_get(proxy, bucket, "data/a.dat")
    with pytest.raises(http.client.IncompleteRead) as raised:
        response.read()
    conn.close()
    assert raised.value.partial == BODY[: len(BODY) // 4]
    # The next request on a fresh connection is whole again.
    response, conn = _raw_get(proxy, bucket, "data/a.dat")
    assert response.read() == BODY
    conn.close()


def test_faults_filter_by_method(proxy: S3Proxy, bucket: str) -> None:
    proxy.add_fault(Fault("internal_error", key="*", method="PUT"))
    client = _client(proxy.endpoint_url)
    assert client.get_object(Bucket=bucket, Key="data/b.hea")["Body"].read() == b"b 1 125 10\n"
    with pytest.raises(ClientError):
        client.put_object(Bucket=bucket, Key="written/y.bin", Body=b"y")


def test_probability_is_seeded(moto_s3: MotoS3, bucket: str) -> None:
    def pattern(seed: int) -> list[bool]:
        fault = Fault("slow_down", key="*/b.hea", probability=0.5)
        with S3Proxy(
            moto_s3.endpoint_url, latency_s=0, bandwidth=None, faults=[fault], seed=seed
        ) as p:
            client = _client(p.endpoint_url)
            outcome = []
            for _ in range(24):
                try:
                    client.get_object(Bucket=bucket, Key="data/b.hea")["Body"].read()
                    outcome.append(False)
                except ClientError:
                    outcome.append(True)
        return outcome

    first, again, other = pattern(7), pattern(7), pattern(8)
    assert first == again
    assert 0 < sum(first) < 24
    assert first != other


def test_rejects_unknown_fault_kinds() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("timeout")
    with pytest.raises(ValueError, match="body_fraction"):
        Fault("reset", body_fraction=1.0)

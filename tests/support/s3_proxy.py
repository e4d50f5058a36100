"""An HTTP proxy on 127.0.0.1 that makes a local S3 API server behave more like S3.

It sits in front of moto's server (or any HTTP/1.1 server) and, per request:

- delays the first byte of every response by at least ``latency_s`` (counted from
  the moment the request has been received, so the server's own time is part of it);
- paces every response body to ``bandwidth`` bytes per second per connection;
- injects faults chosen by rule (:class:`Fault`): HTTP 500 ``InternalError`` and
  503 ``SlowDown`` with S3's XML error body, a connection reset in the middle of the
  body, or a body cut short (the declared ``Content-Length`` is not reached and the
  connection is closed).

Client connections are kept alive (HTTP/1.1), as S3 keeps them; each client
connection is served by its own thread, and bodies are relayed in 64 KiB pieces,
never buffered whole. Upstream connections are reused when the server allows it
(moto's development server closes every connection, so there is one per request).

What it models: time to first byte, a per-connection throughput cap, S3's error
responses, broken and short bodies. What it does not: TLS, bandwidth shared between
connections or a per-host cap, request-rate limits (``SlowDown`` only where a rule
asks for it), slow or stalled uploads, DNS, packet loss. Request bodies are
forwarded as received (they are not paced).

Use it in process::

    with S3Proxy(moto.endpoint_url, faults=[Fault("slow_down", key="*.dat", times=2)]) as proxy:
        ...  # point clients at proxy.endpoint_url

or as a separate process (benchmarks), which prints ``READY <endpoint_url>``::

    python -m tests.support.s3_proxy --upstream http://127.0.0.1:5000 --latency-ms 20 --mbps 90
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import random
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

#: Fault kinds a :class:`Fault` may name.
FAULT_KINDS = ("internal_error", "slow_down", "reset", "truncate")

# kind -> (status, reason, S3 error code, message), as S3 words them.
_ERROR_RESPONSES = {
    "internal_error": (
        500,
        "Internal Server Error",
        "InternalError",
        "We encountered an internal error. Please try again.",
    ),
    "slow_down": (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
}

_PIECE = 64 * 1024
_MAX_HEAD = 64 * 1024


@dataclass
class Fault:
    """A rule that injects one kind of fault into the requests it matches.

    Attributes:
        kind: One of :data:`FAULT_KINDS`.
        key: ``fnmatch`` pattern matched against ``bucket/key`` of the request
            (path-style addressing, URL-decoded, without the query string).
        method: HTTP method it applies to (``None``: any).
        times: Fires at most this many times (``None``: on every match).
        probability: Chance that a matching request gets the fault, drawn from the
            proxy's seeded generator, so a run with the same requests in the same
            order gets the same faults.
        body_fraction: For ``reset`` and ``truncate``: the share of the body that is
            sent before the connection breaks (at least 0 and less than 1 byte short
            of the whole body).
        fired: How many times it has fired so far.
    """

    kind: str
    key: str = "*"
    method: str | None = "GET"
    times: int | None = None
    probability: float = 1.0
    body_fraction: float = 0.5
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {self.probability}")
        if not 0.0 <= self.body_fraction < 1.0:
            raise ValueError(f"body_fraction must be within [0, 1), got {self.body_fraction}")

    def applies_to(self, method: str, key: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(key, self.key)


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-cased names
    raw: bytes  # head and body exactly as received

    @property
    def key(self) -> str:
        return unquote(urlsplit(self.target).path).lstrip("/")

    @property
    def wants_close(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        return connection == "close" or (self.version == "HTTP/1.0" and connection != "keep-alive")


class _Cut(Exception):
    """The body was deliberately broken: the client connection must go."""


class S3Proxy:
    """The proxy; see the module docstring.

    Args:
        upstream: Base URL of the server, e.g. ``http://127.0.0.1:5000``.
        latency_s: Least time from a request's arrival to its response's first byte.
        bandwidth: Bytes per second of each response body, per connection (``None``:
            as fast as the sockets go).
        faults: Rules, tried in order; the first that applies (and whose
            probability draw succeeds) decides the request's fault.
        seed: Seed of the generator behind ``Fault.probability``.
        host: Address to listen on.
        port: Port to listen on (0: any free port).
    """

    def __init__(
        self,
        upstream: str,
        *,
        latency_s: float = 0.020,
        bandwidth: float | None = 90e6,
        faults: list[Fault] | tuple[Fault, ...] = (),
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self.latency_s = latency_s
        self.bandwidth = bandwidth
        self.faults = list(faults)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, port), backlog=256)
        self._address = self._listener.getsockname()[:2]
        self._clients: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        #: Counts: ``requests``, ``connections``, ``body_bytes``, one per fault kind, and
        #: ``in_flight_peak``, the most requests that were being answered at once.
        self.stats: Counter[str] = Counter()
        #: Requests seen per ``"<METHOD> <bucket>/<key>"``.
        self.requests_per_key: Counter[str] = Counter()
        self._in_flight = 0

    @property
    def endpoint_url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def start(self) -> S3Proxy:
        self._thread = threading.Thread(target=self._accept, name="s3-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> S3Proxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    # -- serving -----------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._clients.add(client)
                self.stats["connections"] += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = client.makefile("rb", buffering=_PIECE)
        upstream: list[socket.socket | None] = [None]
        reset = False
        try:
            while not self._stopping.is_set():
                request = _read_request(reader, client)
                if request is None:
                    return
                arrived = time.monotonic()
                with self._lock:
                    self.stats["requests"] += 1
                    self.requests_per_key[f"{request.method} {request.key}"] += 1
                    self._in_flight += 1
                    self.stats["in_flight_peak"] = max(
                        self.stats["in_flight_peak"], self._in_flight
                    )
                    fault = self._pick_fault(request)
                try:
                    if fault is not None and fault.kind in _ERROR_RESPONSES:
                        self._send_error(client, request, fault.kind, arrived)
                        keep = not request.wants_close
                    else:
                        keep = self._forward(client, request, fault, arrived, upstream)
                finally:
                    with self._lock:
                        self._in_flight -= 1
                if not keep:
                    return
        except _Cut as cut:
            reset = str(cut) == "reset"
        except OSError:
            pass  # the client or the server went away; nothing to answer
        finally:
            if upstream[0] is not None:
                upstream[0].close()
            reader.close()
            if reset:
                # SO_LINGER 0: close() sends RST instead of FIN.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            with self._lock:
                self._clients.discard(client)

    def _pick_fault(self, request: _Request) -> Fault | None:
        for fault in self.faults:
            if fault.applies_to(request.method, request.key) and (
                fault.probability >= 1.0 or self._random.random() < fault.probability
            ):
                fault.fired += 1
                self.stats[fault.kind] += 1
                return fault
        return None

    def _wait_first_byte(self, arrived: float) -> None:
        delay = arrived + self.latency_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _send_error(self, client: socket.socket, request: _Request, kind: str, arrived: float):
        status, reason, code, message = _ERROR_RESPONSES[kind]
        request_id = uuid.uuid4().hex[:16].upper()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<Resource>/{request.key}</Resource><RequestId>{request_id}</RequestId>"
            "<HostId>waveshard-test-proxy</HostId></Error>"
        ).encode()
        if request.method == "HEAD":
            body = b""
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"x-amz-request-id: {request_id}\r\n"
            "Server: AmazonS3\r\n\r\n"
        ).encode()
        self._wait_first_byte(arrived)
        client.sendall(head + body)

    def _connect_upstream(self, upstream: list[socket.socket | None]) -> socket.socket:
        if upstream[0] is None:
            upstream[0] = socket.create_connection(self._upstream)
            upstream[0].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return upstream[0]

    def _forward(
        self,
        client: socket.socket,
        request: _Request,
        fault: Fault | None,
        arrived: float,
        upstream: list[socket.socket | None],
    ) -> bool:
        """Relay one request and its response; True if the client connection stays open."""
        try:
            server = self._connect_upstream(upstream)
            server.sendall(request.raw)
        except OSError:
            # A kept-alive upstream connection the server had closed: one fresh try.
            if upstream[0] is not None:
                upstream[0].close()
            upstream[0] = None
            server = self._connect_upstream(upstream)
            server.sendall(request.raw)
        server_reader = server.makefile("rb", buffering=_PIECE)
        try:
            status_line, headers, head_lines = _read_response_head(server_reader)
            status = int(status_line.split()[1])
            server_closes = headers.get("connection", "").lower() == "close"
            no_body = request.method == "HEAD" or status in (204, 304) or 100 <= status < 200
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            length = None if no_body or chunked else headers.get("content-length")
            until_close = not no_body and not chunked and length is None
            # The client's connection stays open unless it asked otherwise (S3 keeps
            # connections); the server's Connection header is not passed on.
            kept = [line for line in head_lines if not line.lower().startswith(b"connection:")]
            client_closes = request.wants_close or until_close
            if client_closes:
                kept.append(b"Connection: close\r\n")
            self._wait_first_byte(arrived)
            client.sendall(status_line + b"".join(kept) + b"\r\n")
            if no_body:
                pass
            elif chunked:
                self._relay_chunked(server_reader, client, fault)
            else:
                total = None if length is None else int(length)
                self._relay_sized(server_reader, client, total, fault)
        except BaseException:
            server_reader.close()
            upstream[0].close()
            upstream[0] = None
            raise
        server_reader.close()
        if server_closes or until_close:
            upstream[0].close()
            upstream[0] = None
        return not client_closes

    def _pace(self, started: float, sent: int) -> None:
        if self.bandwidth:
            delay = started + sent / self.bandwidth - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _relay_sized(self, server_reader, client: socket.socket, total: int | None, fault) -> None:
        cut = None
        if fault is not None and total is not None:
            cut = min(int(total * fault.body_fraction), max(total - 1, 0))
        started, sent = time.monotonic(), 0
        while total is None or sent < total:
            want = _PIECE if total is None else min(_PIECE, total - sent)
            piece = server_reader.read1(want)
            if not piece:
                if total is None:
                    return
                raise ConnectionError("the server closed the connection inside a body")
            if cut is not None and sent + len(piece) >= cut:
                client.sendall(piece[: cut - sent])
                self._count(cut - sent)
                raise _Cut(fault.kind)
            client.sendall(piece)
            sent += len(piece)
            self._count(len(piece))
            self._pace(started, sent)
        if cut is not None:  # an empty body: break the connection right after the head
            raise _Cut(fault.kind)

    def _relay_chunked(self, server_reader, client: socket.socket, fault) -> None:
        """Relay a chunked body; a fault breaks it inside its first data chunk."""
        started, sent = time.monotonic(), 0
        while True:
            size_line = server_reader.readline(_MAX_HEAD)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            client.sendall(size_line)
            if size == 0:
                while True:  # trailers, then the blank line that ends the body
                    line = server_reader.readline(_MAX_HEAD)
                    client.sendall(line)
                    if line in (b"\r\n", b"\n", b""):
                        return
            data = server_reader.read(size + 2)  # the chunk and its CRLF
            if fault is not None:
                cut = int(size * fault.body_fraction)
                client.sendall(data[:cut])
                self._count(cut)
                raise _Cut(fault.kind)
            client.sendall(data)
            sent += size
            self._count(size)
            self._pace(started, sent)

    def _count(self, n_bytes: int) -> None:
        with self._lock:
            self.stats["body_bytes"] += n_bytes


def _read_request(reader, client: socket.socket) -> _Request | None:
    """One request (head and body, raw), or None when the client closed the connection.

    ``Expect: 100-continue`` is answered here and not passed on, so the server never
    sends an interim response the relay would have to skip.
    """
    first = reader.readline(_MAX_HEAD)
    while first in (b"\r\n", b"\n"):  # tolerated between requests
        first = reader.readline(_MAX_HEAD)
    if not first:
        return None
    lines = [first]
    headers: dict[str, str] = {}
    while True:
        line = reader.readline(_MAX_HEAD)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            lines.append(line)
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
        if name.strip().lower() != "expect":
            lines.append(line)
    method, target, version = first.decode("latin-1").split()
    if headers.get("expect", "").lower() == "100-continue":
        client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = reader.readline(_MAX_HEAD)
            parts.append(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    line = reader.readline(_MAX_HEAD)
                    parts.append(line)
                    if line in (b"\r\n", b"\n", b""):
                        break
                break
            parts.append(reader.read(size + 2))
        body = b"".join(parts)
    elif headers.get("content-length"):
        body = reader.read(int(headers["content-length"]))
    return _Request(method, target, version, headers, b"".join(lines) + body)


def _read_response_head(reader) -> tuple[bytes, dict[str, str], list[bytes]]:
    """Status line, headers and raw header lines of the final response (1xx skipped)."""
    while True:
        status_line = reader.readline(_MAX_HEAD)
        if not status_line:
            raise ConnectionError("the server closed the connection without a response")
        headers: dict[str, str] = {}
        lines = []
        while True:
            line = reader.readline(_MAX_HEAD)
            if line in (b"\r\n", b"\n", b""):
                break
            lines.append(line)
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if not status_line.split()[1].startswith(b"1"):
            return status_line, headers, lines


def main(argv: list[str] | None = None) -> None:
    """Run the proxy until SIGTERM, SIGINT or the end of stdin; print counts at exit."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="base URL of the S3 API server")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--mbps", type=float, default=90.0, help="MB/s per connection; 0: none")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    proxy = S3Proxy(
        args.upstream,
        latency_s=args.latency_ms / 1000,
        bandwidth=args.mbps * 1e6 if args.mbps > 0 else None,
        port=args.port,
    ).start()
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    print(f"READY {proxy.endpoint_url}", flush=True)
    done.wait()
    proxy.stop()
    print(json.dumps(dict(proxy.stats)), flush=True)


if __name__ == "__main__":
    main()

"""A PhysioNet-shaped mirror of a local raw tree, and a loopback HTTP server for it.

For trying ``waveshard download`` (and testing it) without PhysioNet:
``write_mirror`` lays a ``<group>/<record>/`` tree out as
``<database>/<version>/<group>/<record>/`` with the ``RECORDS`` files PhysioNet
has (database, group and record level), and ``serve`` answers ``GET``/``HEAD``
with byte ranges, as PhysioNet does, on 127.0.0.1 only.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from waveshard.wfdb_io.headers import HeaderError, parse_header

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def top_level_records(record_dir: Path) -> list[str]:
    """Records a PhysioNet ``RECORDS`` file lists for one record folder.

    Those are the headers no master header names as a segment or layout
    (``3000003`` and ``3000003n``, not ``3000003_0001`` or ``3000003_layout``).
    """
    headers = {p.stem: p for p in record_dir.glob("*.hea")}
    referenced: set[str] = set()
    for path in headers.values():
        try:
            header = parse_header(path.read_text(encoding="latin-1"))
        except HeaderError:
            continue
        if header.segments is not None:
            referenced.update(s.name for s in header.segments if not s.is_gap)
    return sorted(set(headers) - referenced)


def write_mirror(
    source: Path, out: Path, database: str = "mimic3wdb", version: str = "1.0"
) -> Path:
    """Copy ``source/<group>/<record>/`` into a PhysioNet-shaped folder.

    Args:
        source: A raw root (as ``waveshard make-sample`` writes it).
        out: Folder to serve; the database goes to ``out/<database>/<version>``.
        database: Database slug.
        version: Version folder.

    Returns:
        The database folder.
    """
    db = Path(out, database, version)
    record_dirs: list[str] = []
    for group in sorted(p for p in Path(source).iterdir() if p.is_dir()):
        group_lines = []
        for record in sorted(p for p in group.iterdir() if p.is_dir()):
            target = db / group.name / record.name
            shutil.copytree(record, target, dirs_exist_ok=True)
            (target / "RECORDS").write_text("".join(f"{r}\n" for r in top_level_records(record)))
            group_lines.append(f"{record.name}/\n")
            record_dirs.append(f"{group.name}/{record.name}/")
        (db / group.name).mkdir(parents=True, exist_ok=True)
        (db / group.name / "RECORDS").write_text("".join(group_lines))
    (db / "RECORDS").write_text("".join(f"{d}\n" for d in record_dirs))
    return db


class _RangeHandler(SimpleHTTPRequestHandler):
    """Static files with ``Range: bytes=a-b`` support (http.server ignores ranges)."""

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def send_head(self):  # type: ignore[override]
        spec = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not spec or not path.is_file():
            return super().send_head()
        match = _RANGE.match(spec.strip())
        size = path.stat().st_size
        if match is None:
            return super().send_head()
        first, last = match.groups()
        if first == "":
            start, end = max(0, size - int(last or 0)), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        handle = path.open("rb")
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        remaining = end - start + 1

        class _Limited:
            def read(self, n: int = -1) -> bytes:
                nonlocal remaining
                n = remaining if n is None or n < 0 else min(n, remaining)
                chunk = handle.read(n)
                remaining -= len(chunk)
                return chunk

            def close(self) -> None:
                handle.close()

        return _Limited()


@contextmanager
def serve(root: Path, port: int = 0) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1; yields the base URL (``http://127.0.0.1:<port>/``)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_RangeHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

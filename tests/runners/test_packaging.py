"""The shipped code and configuration: reproducible bytes, a well-formed wheel, no secrets."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path

from waveshard.runners.packaging import build_conf_archive, build_wheel


def _package(root: Path) -> Path:
    source = root / "src"
    (source / "pkg" / "sub").mkdir(parents=True)
    (source / "pkg" / "__init__.py").write_text('"""A package."""\n')
    (source / "pkg" / "sub" / "mod.py").write_text("VALUE = 1\n")
    (source / "pkg" / "sub" / "data.yml").write_text("a: 1\n")
    return source


def test_bytecode_caches_are_never_shipped(tmp_path: Path) -> None:
    """Importing the code (tests, a run) must not change the wheel, hence the fingerprint."""
    source = _package(tmp_path)
    _, clean = build_wheel(source, "pkg", "1.0")
    cache = source / "pkg" / "sub" / "__pycache__"
    cache.mkdir()
    (cache / "mod.cpython-311.pyc").write_bytes(b"\x00compiled")
    (cache / "notes.txt").write_text("anything under a cache folder\n")
    (source / "pkg" / "stale.pyc").write_bytes(b"\x00compiled")
    _, after_import = build_wheel(source, "pkg", "1.0")
    assert after_import == clean
    names = zipfile.ZipFile(io.BytesIO(clean)).namelist()
    assert {"pkg/__init__.py", "pkg/sub/mod.py", "pkg/sub/data.yml"} <= set(names)


def test_the_wheel_records_every_file_as_the_wheel_format_asks(tmp_path: Path) -> None:
    """RECORD: each file with its urlsafe-base64 SHA-256 (no padding) and size; WHEEL: pure."""
    name, wheel = build_wheel(_package(tmp_path), "pkg", "1.0")
    assert name == "pkg-1.0-py3-none-any.whl"
    archive = zipfile.ZipFile(io.BytesIO(wheel))
    contents = {info.filename: archive.read(info) for info in archive.infolist()}
    lines = contents.pop("pkg-1.0.dist-info/RECORD").decode().splitlines()
    assert lines[-1] == "pkg-1.0.dist-info/RECORD,,"
    recorded = {}
    for line in lines[:-1]:
        path, digest, size = line.split(",")
        recorded[path] = (digest, int(size))
    expected = {
        path: (
            "sha256="
            + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("="),
            len(data),
        )
        for path, data in contents.items()
    }
    assert recorded == expected
    metadata = Parser().parsestr(contents["pkg-1.0.dist-info/WHEEL"].decode())
    assert metadata["Wheel-Version"] == "1.0"
    assert metadata["Root-Is-Purelib"] == "true"
    assert metadata.get_all("Tag") == ["py3-none-any"]


def _conf(root: Path) -> Path:
    conf = root / "conf"
    for rel in (
        "base/catalog.yml",
        "base/credentials.yml",
        "base/parameters.yml",
        "base/parameters_extraction.yml",
        "container/catalog.yml",
    ):
        (conf / rel).parent.mkdir(parents=True, exist_ok=True)
        (conf / rel).write_text(f"# {rel}\n")
    return conf


def test_files_after_a_credentials_file_are_still_shipped(tmp_path: Path) -> None:
    _, data = build_conf_archive(_conf(tmp_path), ["base", "container"], "pkg")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == [
            "conf/base/catalog.yml",
            "conf/base/parameters.yml",
            "conf/base/parameters_extraction.yml",
            "conf/container/catalog.yml",
        ]
        assert tar.extractfile("conf/base/parameters.yml").read() == b"# base/parameters.yml\n"


def test_the_conf_archive_is_the_same_bytes_an_hour_later(tmp_path: Path, monkeypatch) -> None:
    """No build time in the gzip or tar headers: an unchanged project is not redone."""
    conf = _conf(tmp_path)
    now = build_conf_archive(conf, ["base", "container"], "pkg")
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert build_conf_archive(conf, ["base", "container"], "pkg") == now

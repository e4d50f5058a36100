"""The project's code and configuration, shipped per run (no image rebuild).

Both artefacts are built byte-for-byte reproducibly (fixed timestamps, sorted
entries), so their hashes are the code and configuration half of a job's
fingerprint, and an unchanged project uploads nothing new.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: Never shipped: secrets and machine-local overrides stay on the driver.
_EXCLUDED_NAMES = ("credentials",)
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Artefacts:
    """Built wheel and conf archive, with their combined hash."""

    wheel_name: str
    wheel: bytes
    conf_name: str
    conf: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(
            hashlib.sha256(self.wheel).digest() + hashlib.sha256(self.conf).digest()
        ).hexdigest()


def build_wheel(source_dir: Path, package: str, version: str) -> tuple[str, bytes]:
    """A pure-Python wheel of ``source_dir/package`` (``.py`` and data files, no caches).

    Args:
        source_dir: Folder holding the package (``src``).
        package: Package name, e.g. ``waveshard``.
        version: Version written in the metadata.

    Returns:
        File name and bytes of the wheel.
    """
    dist = f"{package}-{version}"
    files: list[tuple[str, bytes]] = []
    for path in sorted((source_dir / package).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append((path.relative_to(source_dir).as_posix(), path.read_bytes()))
    files.append(
        (
            f"{dist}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode(),
        )
    )
    files.append(
        (
            f"{dist}.dist-info/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: waveshard.runners\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n",
        )
    )
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files)
    files.append((f"{dist}.dist-info/RECORD", (record + f"{dist}.dist-info/RECORD,,\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, _FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return f"{dist}-py3-none-any.whl", buffer.getvalue()


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_conf_archive(conf_dir: Path, envs: list[str], package: str) -> tuple[str, bytes]:
    """A ``tar.gz`` of the given environments of ``conf_dir``, without credentials.

    Args:
        conf_dir: The project's ``conf`` folder.
        envs: Environments to ship, e.g. ``["base", "container"]``; ``local`` never is.
        package: Package name, used in the archive's file name.

    Returns:
        File name and bytes; Kedro reads the archive directly as ``--conf-source``.
    """
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for env in envs:
            if env == "local":
                continue
            for path in sorted((conf_dir / env).rglob("*")):
                if not path.is_file() or any(x in path.name for x in _EXCLUDED_NAMES):
                    continue
                data = path.read_bytes()
                info = tarfile.TarInfo(f"conf/{path.relative_to(conf_dir).as_posix()}")
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                tar.addfile(info, io.BytesIO(data))
    return f"conf-{package}.tar.gz", buffer.getvalue()

"""One patient-group folder on any fsspec filesystem (local disk, S3, ...)."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem


@dataclass
class GroupFolder:
    """A group folder and the sizes of every file below it.

    The listing is taken once (one recursive, paginated ``find``) so discovery
    never asks the storage about single files; reads go through the same
    filesystem object, which pickles into joblib workers.

    Attributes:
        group: Patient-group id, e.g. ``"30"``.
        root: Path of the group folder as the filesystem spells it (no protocol).
        fs: The fsspec filesystem holding the folder.
        files: Size in bytes of each file, keyed by its POSIX path relative to ``root``.
        exists: False when the folder does not exist at all.
    """

    group: str
    root: str
    fs: Any
    files: dict[str, int] = field(default_factory=dict)
    exists: bool = True

    @classmethod
    def scan(
        cls,
        group: str,
        url: str,
        storage_options: dict[str, Any] | None = None,
        records: Sequence[str] | None = None,
    ) -> GroupFolder:
        """List a group folder, or only some of its records.

        Args:
            group: Patient-group id.
            url: Local path or fsspec URL of the folder (``s3://bucket/prefix/30``).
            storage_options: Options for the fsspec filesystem (credentials, endpoint).
            records: First-level names to list (record folders, or files directly
                in the group folder); ``None`` lists everything. Each is listed on
                its own, concurrently on object stores.

        Returns:
            The folder with its file sizes; ``exists`` is False if it is absent.
        """
        fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
        root = root.rstrip("/")
        if not fs.exists(root):
            return cls(group, root, fs, {}, exists=False)
        if records is None:
            found = fs.find(root, detail=True)
        else:
            paths = [posixpath.join(root, name) for name in records]
            workers = 1 if isinstance(fs, LocalFileSystem) else 16
            with ThreadPoolExecutor(max_workers=workers) as pool:
                found = {}
                for listed in pool.map(lambda path: fs.find(path, detail=True), paths):
                    found.update(listed)
        prefix = root + "/"
        files = {
            path[len(prefix) :]: int(info.get("size") or 0)
            for path, info in found.items()
            if path.startswith(prefix) and info.get("type", "file") == "file"
        }
        return cls(group, root, fs, files)

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def path(self, relpath: str) -> str:
        """Full filesystem path of a file given relative to the folder."""
        return posixpath.join(self.root, relpath)

    def url(self, relpath: str) -> str:
        """Where a file is, as a user would type it (``s3://bucket/...`` or a local path)."""
        path = self.path(relpath)
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def read_text(self, relpath: str) -> str:
        return self.fs.cat_file(self.path(relpath)).decode("latin-1")

    def read_texts(self, relpaths: list[str], batch: int = 4096) -> dict[str, str | Exception]:
        """Read many small text files (headers), concurrently where the filesystem can.

        On object stores ``fs.cat`` of a list issues the requests concurrently,
        which turns a group's hundreds of thousands of header reads from hours into
        minutes. A file that cannot be read maps to its exception.
        """
        texts: dict[str, str | Exception] = {}
        for begin in range(0, len(relpaths), batch):
            chunk = relpaths[begin : begin + batch]
            paths = {self.path(rel): rel for rel in chunk}
            found = self.fs.cat(list(paths), on_error="return")
            for path, rel in paths.items():
                data = found.get(path, FileNotFoundError(path))
                texts[rel] = data if isinstance(data, Exception) else data.decode("latin-1")
        return texts

    def read_bytes(self, relpath: str, start: int = 0, end: int | None = None) -> bytes:
        return self.fs.cat_file(self.path(relpath), start=start, end=end)

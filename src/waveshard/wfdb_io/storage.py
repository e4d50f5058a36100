"""One patient-group folder on any fsspec filesystem (local disk, S3, ...).

Nothing outside the group folder is ever read: file names come from the
folder's own listing, and on a local disk a symbolic link is followed only when
it leads to a regular file inside the group folder (a link out of it, a loop or
a dangling link is recorded with the reason, never opened).
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from waveshard.wfdb_io.object_reader import ObjectReader, is_object_store


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
        links: Symbolic links that are not followed, with the reason (relative path → why).
        dirs: Folders below ``root`` (relative paths), so that a folder where a
            file is expected can be named as such.
    """

    group: str
    root: str
    fs: Any
    files: dict[str, int] = field(default_factory=dict)
    exists: bool = True
    links: dict[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)

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
            found = fs.find(root, withdirs=True, detail=True)
        else:
            paths = [posixpath.join(root, name) for name in records]
            workers = 1 if isinstance(fs, LocalFileSystem) else 16
            with ThreadPoolExecutor(max_workers=workers) as pool:
                found = {}
                listings = pool.map(lambda path: fs.find(path, withdirs=True, detail=True), paths)
                for listed in listings:
                    found.update(listed)
        prefix = root + "/"
        folder = cls(group, root, fs)
        for path, info in found.items():
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix) :]
            kind = info.get("type", "file")
            if info.get("islink"):
                why = _link_not_followed(root, path)
                if why is None:
                    folder.files[rel] = int(info.get("size") or 0)
                else:
                    folder.links[rel] = why
            elif kind == "file":
                folder.files[rel] = int(info.get("size") or 0)
            elif kind == "directory":
                folder.dirs.add(rel)
            # anything else (a FIFO, a socket, a device) is no data file: passed over
        return folder

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

    def read_many(self, relpaths: list[str], batch: int = 4096) -> dict[str, bytes | Exception]:
        """Read many small files (headers), concurrently where the filesystem can.

        On object stores the requests go out concurrently and transient failures
        are retried (:class:`~waveshard.wfdb_io.object_reader.ObjectReader`), which
        turns a group's hundreds of thousands of header reads from hours into
        minutes. A file that cannot be read maps to its exception.
        """
        contents: dict[str, bytes | Exception] = {}
        for begin in range(0, len(relpaths), batch):
            chunk = relpaths[begin : begin + batch]
            paths = {self.path(rel): rel for rel in chunk}
            if is_object_store(self.fs):
                found = ObjectReader.shared(self.fs).read_many(list(paths))
            else:
                found = self.fs.cat(list(paths), on_error="return")
            for path, rel in paths.items():
                contents[rel] = found.get(path, FileNotFoundError(path))
        return contents

    def read_bytes(self, relpath: str, start: int = 0, end: int | None = None) -> bytes:
        """Read a file or a byte range of it; on object stores with the reader's retries."""
        if is_object_store(self.fs):
            # one retry layer for every read, as for read_many (not s3fs's inside botocore's)
            return ObjectReader.shared(self.fs).read(self.path(relpath), start, end)
        return self.fs.cat_file(self.path(relpath), start=start, end=end)


def _link_not_followed(root: str, path: str) -> str | None:
    """Why the local symbolic link ``path`` is not followed, or None if it may be.

    A link is followed only to a regular file inside the group folder ``root``.
    """
    try:
        target = os.stat(path)  # follows the link; a loop raises ELOOP
    except OSError as exc:
        return f"a symbolic link that leads nowhere ({exc.strerror or exc}); not followed"
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    if os.path.commonpath([real, real_root]) != real_root:
        return (
            f"a symbolic link to {real}, outside the group folder; not followed (waveshard "
            "reads nothing outside the group folder: copy the file in, e.g. with cp -L)"
        )
    if not stat.S_ISREG(target.st_mode):
        return "a symbolic link to a folder or a special file; not followed"
    return None

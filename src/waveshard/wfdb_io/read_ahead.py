"""Read the next segments' data files while the current one is being counted.

On an object store each read waits ~20 ms or more for its first byte; a worker that
asks for one segment at a time spends most of its time waiting. Given the segments
it is about to extract, in order, :class:`ReadAhead` keeps their data files in
flight through the process's :class:`~waveshard.wfdb_io.object_reader.ObjectReader`
(concurrent, retried), up to a budget of bytes fetched but not yet consumed. The
budget bounds memory: a worker holds at most the segment it is counting plus
``budget_bytes`` of read-ahead (a single segment larger than the budget is still
read, alone).

On local disk there is nothing to hide and :func:`reading_ahead` changes nothing.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields

from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.object_reader import MAX_REQUESTS, ObjectReader, is_object_store
from waveshard.wfdb_io.storage import GroupFolder

#: Data files in flight or waiting at most, whatever their size: keeps the
#: bookkeeping small for shards of many tiny segments.
MAX_FILES_AHEAD = 256


@dataclass(frozen=True)
class _Planned:
    position: int  # of the segment in the shard
    path: str
    size: int | None  # of the object, when the listing told us
    reserve: int  # bytes counted against the budget


@dataclass
class _Pending:
    planned: _Planned
    future: concurrent.futures.Future


class ReadAhead:
    """A window of prefetched data files over a sequence of segments.

    Args:
        reader: Issues the requests.
        folder: The segments' group folder.
        tasks: The segments, in the order they will be read.
        budget_bytes: Bytes fetched ahead and not yet consumed, at most.
        max_files: Files in flight or waiting, at most.
    """

    def __init__(
        self,
        reader: ObjectReader,
        folder: GroupFolder,
        tasks: Sequence[SegmentTask],
        budget_bytes: int,
        max_files: int = MAX_FILES_AHEAD,
    ) -> None:
        self._reader = reader
        self._budget = budget_bytes
        self._max_files = max_files
        self._plan = _plan(folder, tasks)
        self._next = 0
        self._reserved = 0
        self._pending: dict[str, _Pending] = {}
        self._top_up()

    @property
    def reserved_bytes(self) -> int:
        """Bytes of the files in flight or fetched and not yet read."""
        return self._reserved

    @property
    def files_ahead(self) -> int:
        """Files in flight or fetched and not yet read."""
        return len(self._pending)

    def read(self, path: str, start: int = 0, end: int | None = None) -> bytes | bytearray:
        """``path[start:end]``: from the window when it was planned, else read now."""
        pending = self._pending.pop(path, None)
        if pending is None:
            return self._reader.read(path, start, end)
        self._reserved -= pending.planned.reserve
        # Segments before this one that never asked for their files are done with.
        for stale in [
            p for p, e in self._pending.items() if e.planned.position < pending.planned.position
        ]:
            self._release(stale)
        self._top_up()  # the next requests go out before this one is waited for
        data = pending.future.result()
        if start == 0 and (end is None or end >= len(data)):
            return data
        return data[start:end]

    def close(self) -> None:
        """Cancel what is still in flight and forget what was fetched."""
        for path in list(self._pending):
            self._release(path)
        self._next = len(self._plan)

    def _release(self, path: str) -> None:
        pending = self._pending.pop(path)
        pending.future.cancel()
        self._reserved -= pending.planned.reserve

    def _top_up(self) -> None:
        while self._next < len(self._plan) and len(self._pending) < self._max_files:
            planned = self._plan[self._next]
            if self._pending and self._reserved + planned.reserve > self._budget:
                return
            future = self._reader.submit(planned.path, size=planned.size)
            self._pending[planned.path] = _Pending(planned, future)
            self._reserved += planned.reserve
            self._next += 1


def _plan(folder: GroupFolder, tasks: Sequence[SegmentTask]) -> list[_Planned]:
    """The data files the segments will read, in order, each once."""
    plan: list[_Planned] = []
    seen: set[str] = set()
    for position, task in enumerate(tasks):
        if task.header.sig_len == 0 or not task.dat_paths:
            continue  # nothing is read for an empty segment
        single = len(task.dat_paths) == 1
        for rel in task.dat_paths:
            path = folder.path(rel)
            if path in seen:
                continue
            seen.add(path)
            size = folder.files.get(rel, task.dat_bytes if single else None)
            reserve = size if size is not None else task.dat_bytes // len(task.dat_paths)
            plan.append(_Planned(position, path, size, reserve))
    return plan


@dataclass
class ReadAheadFolder(GroupFolder):
    """A group folder whose ``read_bytes`` is served by a :class:`ReadAhead` window."""

    ahead: ReadAhead | None = None

    def read_bytes(self, relpath: str, start: int = 0, end: int | None = None) -> bytes:
        if self.ahead is None:
            return super().read_bytes(relpath, start, end)
        return self.ahead.read(self.path(relpath), start, end)


@contextmanager
def reading_ahead(
    folder: GroupFolder,
    tasks: Sequence[SegmentTask],
    budget_bytes: int,
    max_requests: int = MAX_REQUESTS,
) -> Iterator[GroupFolder]:
    """The folder to extract ``tasks`` from, with their data files read ahead.

    Args:
        folder: The group folder.
        tasks: The segments that will be extracted, in order.
        budget_bytes: Read-ahead budget; 0 reads each file when it is asked for.
        max_requests: Requests in flight per process.

    Yields:
        ``folder`` itself on local disk or with a zero budget, else a
        :class:`ReadAheadFolder` over it.
    """
    if budget_bytes <= 0 or not is_object_store(folder.fs):
        yield folder
        return
    ahead = ReadAhead(ObjectReader.shared(folder.fs, max_requests), folder, tasks, budget_bytes)
    state = {f.name: getattr(folder, f.name) for f in fields(GroupFolder)}
    try:
        yield ReadAheadFolder(**state, ahead=ahead)
    finally:
        ahead.close()

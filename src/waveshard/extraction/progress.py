"""Throttled progress lines for long extractions."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable


class ProgressLog:
    """Logs records done / total, segments and MB/s at most every ``interval_s``.

    Args:
        label: Prefix of each line (the group).
        records: Record of each segment to extract (one entry per segment).
        total_bytes: Bytes of ``.dat`` to read in all.
        interval_s: Least number of seconds between two lines.
        logger: Where the lines go.
    """

    def __init__(
        self,
        label: str,
        records: Iterable[str],
        total_bytes: int,
        interval_s: float,
        logger: logging.Logger,
    ) -> None:
        self._pending = Counter(records)
        self.records_total = len(self._pending)
        self.segments_total = sum(self._pending.values())
        self.total_bytes = total_bytes
        self.records_done = self.segments_done = self.bytes_done = 0
        self._label, self._interval, self._logger = label, interval_s, logger
        self.started = time.perf_counter()
        self._last = self.started

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def advance(self, records: Iterable[str], n_bytes: int) -> None:
        """Count finished segments (one record name per segment) and their bytes."""
        for record in records:
            self.segments_done += 1
            self._pending[record] -= 1
            if self._pending[record] == 0:
                self.records_done += 1
        self.bytes_done += n_bytes
        now = time.perf_counter()
        if now - self._last >= self._interval and self.segments_done < self.segments_total:
            self._last = now
            self.log()

    def log(self) -> None:
        mb = self.bytes_done / 1e6
        self._logger.info(
            "%s: %d/%d records, %d/%d segments, %.1f/%.1f MB, %.1f MB/s",
            self._label,
            self.records_done,
            self.records_total,
            self.segments_done,
            self.segments_total,
            mb,
            self.total_bytes / 1e6,
            mb / max(self.elapsed, 1e-9),
        )

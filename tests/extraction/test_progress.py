"""Progress lines: records done / total and MB/s, throttled."""

from __future__ import annotations

import logging

from waveshard.extraction.progress import ProgressLog


def test_progress_counts_records_when_all_their_segments_are_done(caplog) -> None:
    logger = logging.getLogger("test.progress")
    progress = ProgressLog("Group 30", ["a", "a", "b", "c"], 4_000_000, 0.0, logger)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress.advance(["a"], 1_000_000)
        progress.advance(["a", "b"], 2_000_000)
    assert progress.records_done == 2 and progress.segments_done == 3
    assert "Group 30: 0/3 records, 1/4 segments, 1.0/4.0 MB" in caplog.messages[0]
    assert "Group 30: 2/3 records, 3/4 segments, 3.0/4.0 MB" in caplog.messages[1]
    assert caplog.messages[1].endswith("MB/s")


def test_progress_does_not_flood_the_log(caplog) -> None:
    logger = logging.getLogger("test.progress")
    progress = ProgressLog("Group 30", [str(i) for i in range(1000)], 1000, 3600.0, logger)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for i in range(1000):
            progress.advance([str(i)], 1)
    assert caplog.messages == []
    assert progress.records_done == 1000

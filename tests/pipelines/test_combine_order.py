"""Combined tables do not depend on how a group was split into jobs, or on group order."""

from __future__ import annotations

import pandas as pd

from waveshard.contract import EXTRACTION_ERRORS, SEGMENT_FEATURES
from waveshard.pipelines.combine.nodes import combine_errors, combine_segment_features


def _problem(record: str, segment: str, kind: str) -> dict:
    return {
        "group": "32",
        "record": record,
        "segment": segment,
        "path": f"s3://raw/32/{record}/{segment}",
        "error_type": kind,
        "severity": "error",
        "message": kind,
    }


def test_a_groups_errors_combine_the_same_whole_or_in_parts() -> None:
    # A group's table lists discovery problems first, then extraction problems; each
    # partition's table does the same for its records only.
    found = {
        "r1": [_problem("r1", "s1", "MissingSegment")],
        "r2": [_problem("r2", "s1", "MissingDataFile")],
    }
    read = {"r1": [_problem("r1", "s2", "ValueError")], "r2": [_problem("r2", "s3", "ValueError")]}
    whole = EXTRACTION_ERRORS.frame([*found["r1"], *found["r2"], *read["r1"], *read["r2"]])
    parts = [EXTRACTION_ERRORS.frame([*found[r], *read[r]]) for r in ("r1", "r2")]
    other = EXTRACTION_ERRORS.frame([_problem("a0", "s0", "ValueError")]).assign(group="31")
    pd.testing.assert_frame_equal(
        combine_errors(whole, other), combine_errors(*parts, other), check_exact=True
    )
    pd.testing.assert_frame_equal(combine_errors(whole, other), combine_errors(other, whole))
    assert list(combine_errors(whole)["error_type"]) == [
        "MissingSegment",
        "ValueError",
        "MissingDataFile",
        "ValueError",
    ]


def test_segment_rows_are_in_record_order_whatever_the_folders_order() -> None:
    def rows(record: str) -> list[dict]:
        return [
            {c: None for c in SEGMENT_FEATURES.columns}
            | {
                "group": "30",
                "record": record,
                "segment": f"{record}_1",
                "channel": ch,
                "kind": "waveform",
                "n_samples": 1,
                "n_valid": 1,
                "fmt": 80,
                "baseline": 0,
            }
            for ch in (0, 1)
        ]

    # folders a/ and b/ hold records named z and y: folder order is not record order
    parts = [SEGMENT_FEATURES.frame(rows("z")), SEGMENT_FEATURES.frame(rows("y"))]
    whole = SEGMENT_FEATURES.frame([*rows("y"), *rows("z")])
    pd.testing.assert_frame_equal(combine_segment_features(*parts), combine_segment_features(whole))
    assert list(combine_segment_features(*parts)["record"]) == ["y", "y", "z", "z"]

"""Beat-by-beat comparison with reference annotations, as ANSI/AAMI EC57 counts it.

A detection within the matching window (150 ms in EC57) of a reference beat is
a true positive; each reference beat and each detection is matched at most
once. Sensitivity ``Se = TP / (TP + FN)``, positive predictivity
``+P = TP / (TP + FP)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Reference annotation symbols that are beats in EC57 (WFDB ``bxb``).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
EC57_WINDOW_S = 0.150


@dataclass(frozen=True)
class BeatMatch:
    """Counts of a beat-by-beat comparison."""

    true_positives: int
    false_negatives: int
    false_positives: int

    @property
    def sensitivity(self) -> float:
        found = self.true_positives + self.false_negatives
        return self.true_positives / found if found else float("nan")

    @property
    def positive_predictivity(self) -> float:
        called = self.true_positives + self.false_positives
        return self.true_positives / called if called else float("nan")


def match_beats(detected: np.ndarray, reference: np.ndarray, tolerance: float) -> BeatMatch:
    """Match detections to reference beats one to one, nearest first in time order.

    Args:
        detected: Detected beat positions (samples or seconds).
        reference: Reference beat positions, same unit.
        tolerance: Largest distance that still matches (inclusive), same unit.

    Returns:
        True positives, false negatives (missed reference beats) and false
        positives (detections matching no reference beat).
    """
    det = np.sort(np.asarray(detected, dtype=np.float64)).tolist()
    ref = np.sort(np.asarray(reference, dtype=np.float64)).tolist()
    i = j = matched = 0
    while i < len(det) and j < len(ref):
        gap = det[i] - ref[j]
        if abs(gap) <= tolerance:
            # Prefer the closer of two detections competing for one reference beat.
            if i + 1 < len(det) and abs(det[i + 1] - ref[j]) < abs(gap):
                i += 1
                continue
            matched += 1
            i += 1
            j += 1
        elif gap < 0:
            i += 1
        else:
            j += 1
    return BeatMatch(matched, len(ref) - matched, len(det) - matched)

"""Time-domain heart rate variability over trailing windows.

SDNN (sample standard deviation of NN intervals), RMSSD (root mean square of
successive NN differences) and pNN50 (percentage of successive differences
larger than 50 ms), as defined by the Task Force of the European Society of
Cardiology and the North American Society of Pacing and Electrophysiology
(Circulation 1996;93:1043-1065). For each feature window the HRV window is
the ``length_s`` seconds that end where the feature window ends, so a row
never uses data from after its own window (no look-ahead for models).
All windows are computed at once from prefix sums.
"""

from __future__ import annotations

import numpy as np

PNN_THRESHOLD_S = 0.050


def trailing_hrv(
    nn_time: np.ndarray,
    nn: np.ndarray,
    diff_time: np.ndarray,
    diff: np.ndarray,
    *,
    window_end: np.ndarray,
    length_s: float,
    min_coverage: float,
) -> dict[str, np.ndarray]:
    """SDNN, RMSSD and pNN50 over ``[end - length_s, end)`` for every window end.

    Args:
        nn_time: Time (s) of the beat closing each NN interval, ascending.
        nn: NN intervals in seconds.
        diff_time: Time (s) of each successive difference (the later interval's).
        diff: Successive differences of NN intervals (s), only between
            intervals that share a beat.
        window_end: Times (s) at which the HRV windows end.
        length_s: HRV window length in seconds.
        min_coverage: Fraction of the HRV window the NN intervals must cover;
            below it the values are NaN.

    Returns:
        ``sdnn_ms``, ``rmssd_ms``, ``pnn50_pct`` (float64) and ``hrv_n_nn`` (int64).
    """
    start = window_end - length_s
    lo = np.searchsorted(nn_time, start, side="left")
    hi = np.searchsorted(nn_time, window_end, side="left")
    n = hi - lo
    # Centre before the prefix sums: sums of squares of ~0.8 s values would
    # otherwise lose the variance (~1e-3 s^2) to cancellation.
    centred = nn - (nn.mean() if len(nn) else 0.0)
    s1 = np.concatenate([[0.0], np.cumsum(centred)])
    s2 = np.concatenate([[0.0], np.cumsum(centred * centred)])
    total = np.concatenate([[0.0], np.cumsum(nn)])
    covered = total[hi] - total[lo]
    sum1, sum2 = s1[hi] - s1[lo], s2[hi] - s2[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (sum2 - sum1 * sum1 / n) / (n - 1)
        sdnn = np.sqrt(np.maximum(variance, 0.0)) * 1000.0

    dlo = np.searchsorted(diff_time, start, side="left")
    dhi = np.searchsorted(diff_time, window_end, side="left")
    m = dhi - dlo
    d2 = np.concatenate([[0.0], np.cumsum(diff * diff)])
    big = np.concatenate([[0], np.cumsum(np.abs(diff) > PNN_THRESHOLD_S)])
    with np.errstate(invalid="ignore", divide="ignore"):
        rmssd = np.sqrt((d2[dhi] - d2[dlo]) / m) * 1000.0
        pnn50 = 100.0 * (big[dhi] - big[dlo]) / m

    enough = covered >= min_coverage * length_s
    sdnn = np.where(enough & (n >= 2), sdnn, np.nan)
    rmssd = np.where(enough & (m >= 1), rmssd, np.nan)
    pnn50 = np.where(enough & (m >= 1), pnn50, np.nan)
    return {"sdnn_ms": sdnn, "rmssd_ms": rmssd, "pnn50_pct": pnn50, "hrv_n_nn": n.astype(np.int64)}

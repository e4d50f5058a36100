"""Beat detector choice: sleepecg vs NeuroKit2 on MIT-BIH record 100, in one run.

Both detectors run on lead MLII of MIT-BIH record 100 (the project's test
data) at its own 360 Hz and resampled to MIMIC's 125 Hz. Detections are
matched to the cardiologists' beat annotations the way ANSI/AAMI EC57 does
(150 ms window, beat symbols only, each beat matched once; the whole record,
without EC57's 5-minute learning period, which is stricter). Speed is the
median of several runs in the same process, so the ratio between the two is
meaningful even on a busy machine. NeuroKit2 is a development dependency,
used only here. Run:

    uv run python -m benchmarks.compare_beat_detectors [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.signal
import wfdb

from waveshard.features.clinical import detect_r_peaks
from waveshard.features.clinical.evaluation import BEAT_SYMBOLS, EC57_WINDOW_S, match_beats

MITDB = Path(__file__).resolve().parents[1] / "tests" / "data" / "mitdb" / "100"


def neurokit_peaks(ecg: np.ndarray, fs: float) -> np.ndarray:
    import neurokit2 as nk

    cleaned = nk.ecg_clean(ecg, sampling_rate=fs, method="neurokit")
    _, info = nk.ecg_peaks(cleaned, sampling_rate=fs, method="neurokit")
    return np.asarray(info["ECG_R_Peaks"])


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    record = wfdb.rdrecord(str(MITDB))
    annotation = wfdb.rdann(str(MITDB), "atr")
    reference = np.array(
        [
            s
            for s, sym in zip(annotation.sample, annotation.symbol, strict=True)
            if sym in BEAT_SYMBOLS
        ]
    )
    mlii = record.p_signal[:, 0]
    detectors = {
        "sleepecg (waveshard.detect_r_peaks)": detect_r_peaks,
        "NeuroKit2 neurokit": neurokit_peaks,
    }
    print(
        f"{'fs':>5}  {'detector':<38}{'beats':>6}{'Se %':>8}{'+P %':>8}{'ms':>9}{'Msamples/s':>12}"
    )
    for fs in (360, 125):
        ecg = mlii if fs == 360 else scipy.signal.resample_poly(mlii, 25, 72)
        ref = reference if fs == 360 else np.round(reference * fs / 360).astype(np.int64)
        for name, detect in detectors.items():
            detect(ecg, fs)  # warm-up (filter design caches, imports)
            seconds = median_seconds(
                lambda detect=detect, ecg=ecg, fs=fs: detect(ecg, fs), args.repeats
            )
            found = detect(ecg, fs)
            result = match_beats(found, ref, EC57_WINDOW_S * fs)
            print(
                f"{fs:>5}  {name:<38}{len(found):>6}{100 * result.sensitivity:>8.2f}"
                f"{100 * result.positive_predictivity:>8.2f}{seconds * 1000:>9.1f}"
                f"{len(ecg) / seconds / 1e6:>12.1f}"
            )


if __name__ == "__main__":
    main()

"""A MIMIC-III-layout group of multi-signal records for the clinical benchmark.

Every record has format-80 segments at 125 Hz with ECG (lead II), ABP, PLETH
and RESP, ``~`` gaps between segments, a master and a layout header, and a
numerics record at 1/60 Hz. The ECG is real (MIT-BIH record 100 resampled to
125 Hz, from the project's test data) so the beat detector meets real QRS
complexes; ABP, PLETH and RESP are physiological shapes driven by a slowly
varying heart and breathing rate, with noise and runs of invalid samples.
Written with numpy (not wfdb's writer) so that hundreds of MB take seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.signal
import wfdb

FS = 125
_MITDB = Path(__file__).resolve().parents[1] / "tests" / "data" / "mitdb" / "100"
#: (name, units, gain, baseline) as MIMIC-III writes them.
CHANNELS = (
    ("II", "mV", 83.0, 0),
    ("ABP", "mmHg", 0.833333, -100),
    ("PLETH", "NU", 255.0, -128),
    ("RESP", "NU", 51.0, -25),
)
_NUMERICS = (("HR", "bpm"), ("ABPSys", "mmHg"), ("ABPDias", "mmHg"), ("ABPMean", "mmHg"))


def real_ecg() -> np.ndarray:
    record = wfdb.rdrecord(str(_MITDB), channels=[0])
    return scipy.signal.resample_poly(record.p_signal[:, 0], 25, 72)


def _phase(rng: np.random.Generator, n: int, mean_hz: float, spread: float) -> np.ndarray:
    """Cycle phase (in cycles) of a rate that wanders slowly around ``mean_hz``."""
    knots = max(2, n // (FS * 30) + 2)
    rate = mean_hz * (1 + spread * rng.standard_normal(knots))
    rate = np.interp(np.arange(n), np.linspace(0, n, knots), np.clip(rate, 0.3 * mean_hz, None))
    return np.cumsum(rate / FS)


def physical_signals(rng: np.random.Generator, ecg: np.ndarray, n: int) -> np.ndarray:
    """Physical samples (n, 4): ECG, ABP, PLETH, RESP."""
    out = np.empty((n, 4))
    out[:, 0] = np.resize(np.roll(ecg, int(rng.integers(len(ecg)))), n)
    beat = _phase(rng, n, rng.uniform(1.0, 1.5), 0.05) % 1.0
    rise = beat < 0.15
    shape = np.where(rise, 0.5 * (1 - np.cos(np.pi * beat / 0.15)), np.exp(-(beat - 0.15) / 0.35))
    sbp, dbp = rng.uniform(100, 150), rng.uniform(50, 80)
    out[:, 1] = dbp + (sbp - dbp) * shape + rng.normal(0, 0.5, n)
    out[:, 2] = 0.5 + 0.3 * np.sin(2 * np.pi * beat) + rng.normal(0, 0.01, n)
    breath = _phase(rng, n, rng.uniform(0.2, 0.35), 0.1)
    out[:, 3] = 0.5 + 0.4 * np.sin(2 * np.pi * breath) + rng.normal(0, 0.01, n)
    return out


def _digital(physical: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Format-80 digital samples, with a few runs of the invalid value."""
    digital = np.empty(physical.shape, dtype=np.int16)
    for ch, (_, _, gain, baseline) in enumerate(CHANNELS):
        digital[:, ch] = np.clip(np.round(physical[:, ch] * gain + baseline), -127, 127)
    n = len(digital)
    for ch in range(digital.shape[1]):
        for _ in range(int(rng.integers(0, 3))):
            run = int(rng.integers(10, max(11, min(5 * FS, n // 10))))
            begin = int(rng.integers(0, max(1, n - run)))
            digital[begin : begin + run, ch] = -128
    return digital


def _signal_lines(file_name: str, digital: np.ndarray | None) -> list[str]:
    lines = []
    for ch, (name, units, gain, baseline) in enumerate(CHANNELS):
        gain_text = f"{gain:g}({baseline})" if baseline else f"{gain:g}"
        checksum = 0 if digital is None else int(digital[:, ch].astype(np.int64).sum()) % 65536
        if checksum >= 32768:
            checksum -= 65536
        lines.append(f"{file_name} 80 {gain_text}/{units} 8 0 {baseline} {checksum} 0 {name}")
    return lines


def write_clinical_group(
    root: Path, *, records: int = 20, max_segment_s: float = 3 * 3600, seed: int = 7
) -> None:
    """Write ``records`` multi-signal records under ``root`` (one group folder)."""
    rng = np.random.default_rng(seed)
    ecg = real_ecg()
    for r in range(records):
        record = f"39{r + 1:05d}"
        folder = root / record
        folder.mkdir(parents=True, exist_ok=True)
        # Heavy-tailed record sizes, as in real groups.
        scale = float(np.exp(rng.normal(0.0, 1.0)))
        entries: list[tuple[str, int]] = [(f"{record}_layout", 0)]
        total = 0
        for s in range(int(rng.integers(1, 5))):
            if s:
                gap = int(rng.integers(FS, 600 * FS))
                entries.append(("~", gap))
                total += gap
            n = int(np.clip(max_segment_s / 4 * scale * rng.uniform(0.3, 1.0), 60, max_segment_s))
            n *= FS
            name = f"{record}_{s + 1:04d}"
            digital = _digital(physical_signals(rng, ecg, n), rng)
            (digital + 128).astype(np.uint8).tofile(folder / f"{name}.dat")
            header = [f"{name} 4 {FS} {n}", *_signal_lines(f"{name}.dat", digital)]
            (folder / f"{name}.hea").write_text("\n".join(header) + "\n")
            entries.append((name, n))
            total += n
        layout = [f"{record}_layout 4 {FS} 0", *_signal_lines("~", None)]
        (folder / f"{record}_layout.hea").write_text("\n".join(layout) + "\n")
        master = [f"{record}/{len(entries)} 4 {FS} {total} 08:00:00.000 01/01/2150"]
        master += [f"{name} {length}" for name, length in entries]
        (folder / f"{record}.hea").write_text("\n".join(master) + "\n")
        minutes = max(1, total // (60 * FS))
        centres = ((80, 5), (120, 8), (70, 5), (90, 6))  # HR, ABPSys, ABPDias, ABPMean
        values = np.column_stack([rng.normal(mu, sd, minutes) for mu, sd in centres])
        (np.round(values * 10).astype("<i2")).tofile(folder / f"{record}n.dat")
        numerics = [f"{record}n 4 0.0166666666667/125 {minutes} 08:00:00.000 01/01/2150"]
        numerics += [f"{record}n.dat 16 10/{u} 16 0 0 0 0 {n}" for n, u in _NUMERICS]
        (folder / f"{record}n.hea").write_text("\n".join(numerics) + "\n")

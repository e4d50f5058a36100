"""Deterministic synthetic WFDB trees in the MIMIC-III Waveform Database layout.

The tree is ``<root>/<group>/<record>/`` with, per record, format-80 segments
(``<rec>_0001.hea/.dat`` ...), a layout header (``<rec>_layout.hea``), a master
multi-segment header (``<rec>.hea``) and usually a numerics record
(``<rec>n.hea/.dat``). The header text follows the real MIMIC-III shapes (see
the PhysioNet sample records), and the sample files are encoded by wfdb itself
from digital samples, so every value in the tree is known exactly.

Every awkward case the extraction must handle appears at least once, and all
of them in the first record: gains and baselines that change between segments,
fractional gains with a baseline (``0.833333(-100)/mmHg``), runs of the invalid
sample value, ``~`` gaps, 4-sample segments, a zero-length segment, and a
numerics record at 1/60 Hz with invalid values. The tree holds no damage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb
from wfdb.io import _signal as wfdb_signal

from waveshard.datatools.sample_headers import (
    to_millisecond,
    to_mimic_header,
    write_layout,
    write_master,
)

__all__ = ["SAMPLE_MARKER", "SampleSummary", "holds_sample", "write_sample_tree"]

#: File at the root of every tree this module writes: it tells the data tools that the
#: tree is synthetic, so real records are not mixed into it unnoticed.
SAMPLE_MARKER = ".waveshard-sample"
_MARKER_TEXT = (
    "This tree is waveshard's synthetic sample, written by `waveshard make-sample`.\n"
    "`waveshard download` refuses to add real records to it; download them elsewhere.\n"
)

FS = 125
#: fs of the numerics records, written exactly as MIMIC-III does (``0.0166666666667/125``).
NUMERICS_FS = float("0.0166666666667")
NUMERICS_COUNTER_FREQ = 125
_INVALID_80 = -128
_INVALID_16 = -32768
# wfdb's writer checks sample bounds with Python's builtin min()/max() (~0.2 s per
# million samples and channel); above this length the .dat goes through wfdb's own
# encoder directly, after an equivalent vectorised bounds check.
_WRSAMP_MAX_SAMPLES = 200_000


@dataclass(frozen=True)
class SampleSummary:
    """What ``write_sample_tree`` wrote.

    Attributes:
        groups: Number of group directories.
        records: Number of record directories.
        segments: Number of segment headers, numerics headers included (not
            layout or master headers).
        dat_bytes: Total size of all ``.dat`` files.
    """

    groups: int
    records: int
    segments: int
    dat_bytes: int


@dataclass(frozen=True)
class _Kind:
    """A signal family: its unit, waveform shape and the gain(baseline) pairs it may use."""

    units: str
    shape: str
    gains: tuple[tuple[float, int], ...]


_ECG = _Kind("mV", "ecg", ((29, 0), (83, 0), (55, 0), (24, 0), (86, 0), (127, -64)))
_PRESSURE = _Kind("mmHg", "pressure", ((0.833333, -100), (1, 0), (1.25, -100), (1.28, -109)))
_CVP = _Kind("mmHg", "pressure", ((2.56, -101), (1.28, -109)))
_PLETH = _Kind("NU", "pleth", ((255, -128), (127, -64)))
_RESP = _Kind("NU", "resp", ((51, -25), (102, -51)))

# (layout slot, kind, name choices): name variants are drawn per record, so the same
# quantity is spelled differently across records but consistently within one.
_SLOTS: tuple[tuple[_Kind, tuple[str, ...]], ...] = (
    (_ECG, ("II",)),
    (_ECG, ("V", "AVR", "MCL1")),
    (_PRESSURE, ("ABP", "ABP", "ART", "Abp")),
    (_PLETH, ("PLETH", "PLETH", "Pleth")),
    (_RESP, ("RESP",)),
    (_CVP, ("CVP",)),
)

# (name, units, gain, adc_zero, physical centre, physical spread) as in MIMIC-III numerics.
_NUMERICS: tuple[tuple[str, str, int, float, float], ...] = (
    ("HR", "bpm", 10, 80.0, 12.0),
    ("ABPSys", "mmHg", 10, 120.0, 15.0),
    ("ABPDias", "mmHg", 10, 60.0, 8.0),
    ("ABPMean", "mmHg", 10, 80.0, 10.0),
    ("PULSE", "bpm", 10, 80.0, 12.0),
    ("RESP", "pm", 10, 16.0, 4.0),
    ("SpO2", "%", 10, 97.0, 2.0),
    ("NBPSys", "mmHg", 1, 118.0, 15.0),
    ("NBPDias", "mmHg", 1, 62.0, 8.0),
    ("NBPMean", "mmHg", 1, 80.0, 10.0),
)
_NBP_PREFIX = "NBP"


@dataclass
class _Plan:
    """The shape of one record, drawn before any sample is generated."""

    record: str
    start: dt.datetime
    slots: list[tuple[_Kind, str]]
    # Per entry: (segment name or "~" for a gap, length, channel indices into slots).
    items: list[tuple[str, int, tuple[int, ...]]]
    numerics: bool


def write_sample_tree(
    root: str | Path,
    *,
    groups: Sequence[str] = tuple(str(g) for g in range(30, 40)),
    records_per_group: int = 2,
    max_segment_samples: int = 20_000,
    skew: float = 0.0,
    seed: int = 20261127,
) -> SampleSummary:
    """Write a deterministic synthetic MIMIC-III-layout WFDB tree.

    The root also gets :data:`SAMPLE_MARKER`, which marks the tree as synthetic.

    Args:
        root: Directory to write into (created if missing); existing record
            directories with the same names are overwritten file by file.
        groups: Two-digit group ids; record ids are ``<group>00001``,
            ``<group>00002`` ...
        records_per_group: Records written in every group.
        max_segment_samples: Upper bound on the length of any segment.
        skew: If > 0, segment lengths are lognormal across records with this
            sigma (clipped to ``max_segment_samples``), giving the heavy-tailed
            size mix of real groups; 0 keeps every segment small.
        seed: Seed of everything random; equal arguments give identical bytes.

    Returns:
        Counts of what was written.

    Raises:
        ValueError: If a group id is not two digits or the counts are out of range.
    """
    root = Path(root)
    for group in groups:
        if not re.fullmatch(r"[1-9][0-9]", group):
            raise ValueError(f"group ids must be two digits, got {group!r}")
    if not 1 <= records_per_group <= 99_999:
        raise ValueError("records_per_group must be between 1 and 99999")
    if max_segment_samples < 16:
        raise ValueError("max_segment_samples must be at least 16")
    if skew < 0:
        raise ValueError("skew must be >= 0")

    root.mkdir(parents=True, exist_ok=True)
    (root / SAMPLE_MARKER).write_text(_MARKER_TEXT)
    n_records = n_segments = dat_bytes = 0
    for g_index, group in enumerate(groups):
        for r_index in range(records_per_group):
            record = f"{group}{r_index + 1:05d}"
            # Seeded per record so a record's bytes do not depend on the others.
            rng = np.random.default_rng([seed, int(record)])
            showcase = g_index == 0 and r_index == 0
            # The second record always spells ABP and PLETH differently from the first.
            variant = g_index == 0 and r_index == 1
            plan = _plan_record(
                record, rng, max_segment_samples, skew, showcase=showcase, variant=variant
            )
            out = root / group / record
            out.mkdir(parents=True, exist_ok=True)
            segs, size = _write_record(out, plan, rng, showcase)
            n_records += 1
            n_segments += segs
            dat_bytes += size
    return SampleSummary(len(groups), n_records, n_segments, dat_bytes)


def holds_sample(root: str | Path) -> bool:
    """Whether ``root`` is (or holds) a tree written by :func:`write_sample_tree`."""
    return (Path(root) / SAMPLE_MARKER).is_file()


def _plan_record(
    record: str,
    rng: np.random.Generator,
    max_len: int,
    skew: float,
    *,
    showcase: bool,
    variant: bool,
) -> _Plan:
    start = dt.datetime(2100, 1, 1) + dt.timedelta(
        days=int(rng.integers(0, 365 * 80)), milliseconds=int(rng.integers(0, 86_400_000))
    )
    n_slots = 4 if showcase else int(rng.integers(1, 5))
    chosen = sorted(rng.choice(len(_SLOTS), size=n_slots, replace=False).tolist())
    if showcase:
        chosen = [0, 1, 2, 3]
    slots = [(_SLOTS[i][0], str(rng.choice(_SLOTS[i][1]))) for i in chosen]
    if showcase:
        slots[2:4] = [(_PRESSURE, "ABP"), (_PLETH, "PLETH")]
    if variant:
        slots = [s for s in slots if s[0] not in (_PRESSURE, _PLETH)]
        slots = [*slots, (_PRESSURE, "ART"), (_PLETH, "Pleth")][-4:]

    n_seg = 6 if showcase else int(rng.integers(1, 6))
    if skew > 0:
        # One lognormal scale per record makes whole records large or small, the
        # heavy tail seen across real MIMIC-III records.
        scale = float(np.exp(rng.normal(0.0, skew)))
        lengths = max_len / 6 * scale * rng.uniform(0.5, 1.5, size=n_seg)
    else:
        lengths = rng.uniform(500, 4000, size=n_seg)
    lengths = np.clip(np.round(lengths), 16, max_len).astype(int)
    # Monitors emit 4-sample segments while a lead is being switched.
    short = rng.random(n_seg) < 0.15
    if showcase:
        short[:] = False
        short[3] = True
    lengths[short] = 4

    items: list[tuple[str, int, tuple[int, ...]]] = []
    seg_no = 0
    if showcase:
        # wfdb.rdrecord can read a master with a zero-length segment only when it
        # comes first (it then starts reading at the next segment), so put it there.
        seg_no += 1
        items.append((f"{record}_{seg_no:04d}", 0, (0,)))
    for k in range(n_seg):
        if (k > 0 or showcase) and (rng.random() < 0.3 or (showcase and k in (0, 2))):
            items.append(("~", int(rng.integers(100, 20_000)), ()))
        channels = tuple(range(len(slots)))
        if len(slots) > 1 and rng.random() < 0.3:
            drop = int(rng.integers(len(slots)))
            channels = tuple(c for c in channels if c != drop)
        seg_no += 1
        items.append((f"{record}_{seg_no:04d}", int(lengths[k]), channels))
    numerics = showcase or rng.random() < 0.8
    return _Plan(record, start, slots, items, numerics)


def _write_record(
    out: Path, plan: _Plan, rng: np.random.Generator, showcase: bool
) -> tuple[int, int]:
    first_gain: dict[int, tuple[float, int]] = {}
    offset = n_segments = dat_bytes = 0
    gain_step = int(rng.integers(0, 6))
    # The showcase record must hold an invalid run; its first long segment gets one.
    force_invalid = showcase
    for s_index, (name, length, channels) in enumerate(plan.items):
        if name == "~":
            offset += length
            continue
        gains = []
        for c in channels:
            options = plan.slots[c][0].gains
            # Stepping through the options by segment makes gain and baseline
            # change between consecutive segments of every multi-segment record.
            gains.append(options[(gain_step + s_index) % len(options)])
            first_gain.setdefault(c, gains[-1])
        digital = _waveforms(rng, length, [plan.slots[c][0].shape for c in channels])
        _add_invalid_runs(rng, digital, force=force_invalid)
        force_invalid = force_invalid and length < 16
        _write_segment(
            out,
            name,
            start=plan.start + dt.timedelta(seconds=offset / FS),
            sig_names=[plan.slots[c][1] for c in channels],
            units=[plan.slots[c][0].units for c in channels],
            gains=gains,
            digital=digital,
        )
        n_segments += 1
        dat_bytes += digital.size
        offset += length

    layout = []
    for c, (kind, name) in enumerate(plan.slots):
        gain, baseline = first_gain.get(c, kind.gains[0])
        layout.append((name, gain, baseline, kind.units))
    write_layout(out, plan.record, start=plan.start, fs=FS, channels=layout)
    write_master(
        out,
        plan.record,
        start=plan.start,
        fs=FS,
        n_sig=len(plan.slots),
        segments=[(name, length) for name, length, _ in plan.items],
        total=offset,
    )
    if plan.numerics:
        n_numerics = int(rng.integers(24, 73))
        dat_bytes += _write_numerics(out, plan, rng, n_numerics, force_invalid=showcase)
        n_segments += 1
    return n_segments, dat_bytes


def _waveforms(rng: np.random.Generator, n: int, shapes: Sequence[str]) -> np.ndarray:
    """Digital format-80 samples (n, channels): periodic sine shapes plus noise, in [-127, 127]."""
    out = np.empty((n, len(shapes)), dtype=np.int16)
    for ch, shape in enumerate(shapes):
        # One period is computed and repeated, and the noise is small integers:
        # generating hundreds of MB for the benchmarks then takes seconds.
        period = int(rng.integers(300, 800) if shape == "resp" else rng.integers(70, 140))
        x = 2 * np.pi * np.arange(period) / period
        if shape == "ecg":
            w = np.maximum(np.sin(x), 0.0) ** 15 - 0.2 + 0.1 * np.sin(2 * x)
            amp, centre = rng.uniform(40, 90), rng.uniform(-20, 10)
        elif shape in ("pressure", "pleth"):
            w = np.sin(x) + 0.35 * np.sin(2 * x)
            amp, centre = rng.uniform(20, 40), rng.uniform(-40, 40)
        else:
            w = np.sin(x)
            amp, centre = rng.uniform(30, 80), rng.uniform(-20, 20)
        beat = np.roll(np.round(centre + amp * w).astype(np.int16), int(rng.integers(period)))
        noisy = np.resize(beat, n) + rng.integers(-2, 3, size=n, dtype=np.int16)
        # -128 is the invalid value, so valid samples stop at -127.
        out[:, ch] = np.clip(noisy, -127, 127)
    return out


def _add_invalid_runs(rng: np.random.Generator, digital: np.ndarray, *, force: bool) -> None:
    """Overwrite random stretches with the format-80 invalid value (lead off, flushes)."""
    n, n_ch = digital.shape
    if n < 16:
        return
    for ch in range(n_ch):
        if not (force and ch == 0) and rng.random() >= 0.25:
            continue
        for _ in range(int(rng.integers(1, 4))):
            run = int(rng.integers(3, max(4, min(400, n // 4))))
            begin = int(rng.integers(0, n - run))
            digital[begin : begin + run, ch] = _INVALID_80


def _write_segment(
    out: Path,
    name: str,
    *,
    start: dt.datetime,
    sig_names: list[str],
    units: list[str],
    gains: list[tuple[float, int]],
    digital: np.ndarray,
) -> None:
    n_sig = len(sig_names)
    record = wfdb.Record(
        record_name=name,
        n_sig=n_sig,
        fs=FS,
        sig_len=digital.shape[0],
        base_time=to_millisecond(start),
        file_name=[f"{name}.dat"] * n_sig,
        fmt=["80"] * n_sig,
        adc_gain=[g for g, _ in gains],
        baseline=[b for _, b in gains],
        units=units,
        adc_res=[8] * n_sig,
        adc_zero=[0] * n_sig,
        block_size=[0] * n_sig,
        sig_name=sig_names,
        d_signal=digital.astype(np.int64),
    )
    if digital.shape[0] == 0:
        # wfdb refuses to write an empty signal (its bounds check calls min() on
        # an empty column), so the header goes through wfdb.wrheader and the
        # empty .dat is created by hand.
        record.d_signal = None
        record.init_value = [0] * n_sig
        record.checksum = [0] * n_sig
        record.wrheader(write_dir=str(out), expanded=False)
        (out / f"{name}.dat").write_bytes(b"")
    else:
        record.set_d_features(do_adc=False)
        if digital.shape[0] <= _WRSAMP_MAX_SAMPLES:
            record.wrsamp(write_dir=str(out))
        else:
            if digital.min() < _INVALID_80 or digital.max() > 127:
                raise ValueError("format-80 samples out of range")
            record.wrheader(write_dir=str(out), expanded=False)
            # wfdb's own .dat encoder (the one wrsamp calls), minus the slow check.
            wfdb_signal.wr_dat_file(f"{name}.dat", "80", record.d_signal, 0, write_dir=str(out))
    to_mimic_header(out / f"{name}.hea")


def _write_numerics(
    out: Path, plan: _Plan, rng: np.random.Generator, n: int, *, force_invalid: bool
) -> int:
    k = int(rng.integers(4, len(_NUMERICS) + 1))
    if force_invalid:
        k = len(_NUMERICS)
    # Keep HR and the NBP columns (the ones with invalid values) whenever possible.
    picked = sorted({0, *rng.choice(len(_NUMERICS), size=k, replace=False).tolist()})
    if force_invalid:
        picked = list(range(len(_NUMERICS)))
    specs = [_NUMERICS[i] for i in picked]
    digital = np.empty((n, len(specs)), dtype=np.int64)
    for ch, (name, _units, gain, centre, spread) in enumerate(specs):
        values = (
            centre
            + spread * np.sin(np.linspace(0, rng.uniform(1, 6), n))
            + rng.normal(0, spread / 4, size=n)
        )
        digital[:, ch] = np.round(values * gain)
        if name.startswith(_NBP_PREFIX):
            # Non-invasive pressure is measured every few minutes; the rest is invalid.
            measured = rng.random(n) < 0.2
            if force_invalid:
                measured[0] = False
            digital[~measured, ch] = _INVALID_16
    name = f"{plan.record}n"
    n_sig = len(specs)
    record = wfdb.Record(
        record_name=name,
        n_sig=n_sig,
        fs=NUMERICS_FS,
        counter_freq=NUMERICS_COUNTER_FREQ,
        sig_len=n,
        base_time=to_millisecond(plan.start),
        base_date=plan.start.date(),
        file_name=[f"{name}.dat"] * n_sig,
        fmt=["16"] * n_sig,
        adc_gain=[s[2] for s in specs],
        baseline=[0] * n_sig,
        units=[s[1] for s in specs],
        adc_res=[16] * n_sig,
        adc_zero=[0] * n_sig,
        block_size=[0] * n_sig,
        sig_name=[s[0] for s in specs],
        d_signal=digital,
    )
    record.set_d_features(do_adc=False)
    record.wrsamp(write_dir=str(out))
    to_mimic_header(out / f"{name}.hea")
    return 2 * digital.size

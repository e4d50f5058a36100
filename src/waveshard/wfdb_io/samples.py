"""Read a segment's samples as physical float arrays (NaN for invalid samples).

The clinical features need the waveforms themselves, not value counts. Formats
80 (MIMIC waveforms) and 16 (MIMIC numerics) with one sample per frame are
decoded here with numpy through a lookup table from stored value to physical
value: one indexing pass per channel, and the table gives exactly wfdb's
``(d - baseline) / gain``. Any other format, and signals stored with several
samples per frame (e.g. MIMIC-II's 500 Hz ECG as 4 samples per frame next to
125 Hz pressure), go through ``wfdb.rdrecord`` in digital mode with
``smooth_frames=False``, which returns each signal at its own rate. Never
``m2s=True`` (wfdb then builds the whole multi-segment record in float64,
~20x the ``.dat``).

Memory: a segment's float64 arrays are 8 bytes per sample (8x a format-80
``.dat``), and nothing larger than one segment is held.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import numpy as np

from waveshard.wfdb_io.decode import digital_samples_with_wfdb
from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.headers import INVALID_SAMPLE, Signal
from waveshard.wfdb_io.storage import GroupFolder

_FAST_FORMATS = {"80": 1, "16": 2}


@dataclass(frozen=True)
class PhysicalSignal:
    """One signal of a segment in physical units.

    Attributes:
        name: Signal name as the header writes it.
        units: Physical units as the header writes them.
        fs: Sampling frequency of this signal (frame rate x samples per frame).
        values: float64 physical values, NaN where the sample is invalid.
        adc_range: Physical values of the lowest and highest valid digital
            value of the storage format (saturation limits), or None when the
            format has no fixed range (difference format 8).
    """

    name: str
    units: str
    fs: float
    values: np.ndarray
    adc_range: tuple[float, float] | None


def digital_limits(fmt: str) -> tuple[int, int] | None:
    """Lowest and highest valid digital value of a storage format.

    The lowest representable value marks an invalid sample, so valid values
    run from one above it to its mirror (``-127 .. 127`` for format 80).
    """
    sentinel = INVALID_SAMPLE.get(fmt)
    if sentinel is None:
        return None
    return sentinel + 1, -sentinel - 1


def adc_range(signal: Signal) -> tuple[float, float] | None:
    """Physical saturation limits of one signal."""
    limits = digital_limits(signal.fmt)
    if limits is None:
        return None
    low, high = ((d - signal.baseline) / signal.adc_gain for d in limits)
    return (min(low, high), max(low, high))


def _lookup_table(signal: Signal) -> np.ndarray:
    """Physical value per stored value (uint8/uint16 index), NaN for the invalid one."""
    if signal.fmt == "80":
        digital = np.arange(256, dtype=np.float64) - 128  # offset binary
        table = (digital - signal.baseline) / signal.adc_gain
        table[0] = np.nan  # stored 0 = digital -128
        return table
    # Format 16 read as uint16: 0..32767 are themselves, 32768.. are negative.
    digital = np.arange(65536, dtype=np.int64)
    digital[32768:] -= 65536
    table = (digital.astype(np.float64) - signal.baseline) / signal.adc_gain
    table[32768] = np.nan  # -32768
    return table


def _fast_path_ok(signals: list[Signal]) -> bool:
    fmts = {s.fmt for s in signals}
    return (
        len(fmts) == 1
        and next(iter(fmts)) in _FAST_FORMATS
        and all(s.samps_per_frame == 1 and s.skew == 0 for s in signals)
        and len({s.byte_offset for s in signals}) == 1
    )


def decode_interleaved(raw: bytes, signals: list[Signal], n_frames: int) -> list[np.ndarray]:
    """Physical arrays of interleaved format-80 or format-16 samples (one file).

    Args:
        raw: The file's sample bytes from its byte offset on (at least
            ``n_frames`` frames).
        signals: The file's signals in file order (all one format, one
            sample per frame).
        n_frames: Frames to decode.

    Returns:
        One float64 array per signal.
    """
    width = _FAST_FORMATS[signals[0].fmt]
    n_ch = len(signals)
    dtype = "u1" if width == 1 else "<u2"
    frames = np.frombuffer(raw, dtype=dtype, count=n_frames * n_ch).reshape(n_frames, n_ch)
    return [_lookup_table(s)[frames[:, ch]] for ch, s in enumerate(signals)]


def _read_with_wfdb(group: GroupFolder, task: SegmentTask) -> list[np.ndarray]:
    """Any format wfdb reads, each signal at its own rate (digital, then physical)."""
    channels = digital_samples_with_wfdb(group, task)
    out = []
    for signal, digital in zip(task.header.signals, channels, strict=True):
        values = (digital.astype(np.float64) - signal.baseline) / signal.adc_gain
        sentinel = INVALID_SAMPLE.get(signal.fmt)
        if sentinel is not None:
            values[digital == sentinel] = np.nan
        out.append(values)
    return out


def read_physical(group: GroupFolder, task: SegmentTask) -> list[PhysicalSignal]:
    """Read every signal of one segment in physical units.

    Args:
        group: The group folder the segment lives in.
        task: The segment, as discovery found it.

    Returns:
        One :class:`PhysicalSignal` per header signal, in header order.

    Raises:
        EOFError: If a data file holds fewer samples than the header promises.
    """
    header = task.header
    signals = list(header.signals)
    if header.sig_len == 0:
        arrays = [np.zeros(0) for _ in signals]
    else:
        by_file: dict[str, list[Signal]] = {}
        for signal in signals:
            by_file.setdefault(signal.file_name, []).append(signal)
        if all(_fast_path_ok(group_signals) for group_signals in by_file.values()):
            folder = posixpath.dirname(task.header_path)
            decoded: dict[str, list[np.ndarray]] = {}
            for name, file_signals in by_file.items():
                width = _FAST_FORMATS[file_signals[0].fmt]
                start = file_signals[0].byte_offset
                n_bytes = header.sig_len * len(file_signals) * width
                raw = group.read_bytes(posixpath.join(folder, name), start, start + n_bytes)
                if len(raw) < n_bytes:
                    raise EOFError(f"{name}: expected {n_bytes} bytes of samples, read {len(raw)}")
                decoded[name] = decode_interleaved(raw, file_signals, header.sig_len)
            position = dict.fromkeys(by_file, 0)
            arrays = []
            for signal in signals:
                arrays.append(decoded[signal.file_name][position[signal.file_name]])
                position[signal.file_name] += 1
        else:
            arrays = _read_with_wfdb(group, task)
    return [
        PhysicalSignal(
            signal.name,
            signal.units,
            header.fs * signal.samps_per_frame,
            values,
            adc_range(signal),
        )
        for signal, values in zip(signals, arrays, strict=True)
    ]

"""Decode a segment's samples into per-channel counts of digital values.

The statistics we publish (mean, std, extremes, percentiles) are all functions of
how often each digital value occurs, so a segment is reduced to those counts
while it is read and no float array of the samples is ever built. Formats 80
(8-bit offset binary, MIMIC waveforms) and 16 (16-bit two's complement, MIMIC
numerics) are decoded here with numpy in fixed-size blocks; any other format
goes through ``wfdb.rdrecord`` (digital) so it is read exactly as wfdb reads it.
"""

from __future__ import annotations

import posixpath
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb

from waveshard.wfdb_io.discovery import SegmentTask
from waveshard.wfdb_io.headers import INVALID_SAMPLE, Signal
from waveshard.wfdb_io.storage import GroupFolder

#: Frames counted per bincount call. Large enough that the 65,536-bin outputs of
#: paired 8-bit channels (and of 16-bit samples) are amortized, small enough that
#: the index array bincount builds (8 bytes a sample) stays a few MB.
BLOCK_FRAMES = 1 << 18

_FAST_FORMATS = ("80", "16")
# digital value = bin index - _BIN_ZERO[fmt]
_BIN_ZERO = {"80": 128, "16": 32768}


@dataclass(frozen=True)
class DigitalCounts:
    """How often each digital value occurs in one channel.

    Attributes:
        values: Valid digital values that occur, ascending (int64).
        counts: Occurrences of each value (int64), all positive.
        n_samples: Samples in the channel, invalid ones included.
        checksum_ok: Whether the 16-bit sum of all samples matches the header's
            checksum (None when the header gives none).
    """

    values: np.ndarray
    counts: np.ndarray
    n_samples: int
    checksum_ok: bool | None


def _finish(signal: Signal, digital: np.ndarray, counts: np.ndarray) -> DigitalCounts:
    """Drop the invalid-sample value and check the header checksum."""
    present = counts > 0
    digital, counts = digital[present].astype(np.int64), counts[present].astype(np.int64)
    n_samples = int(counts.sum())
    checksum_ok = None
    if signal.checksum is not None:
        total = int(np.dot(digital % 65536, counts % 65536) % 65536)
        expected = signal.checksum % 65536
        checksum_ok = total == expected
    sentinel = INVALID_SAMPLE.get(signal.fmt)
    if sentinel is not None:
        keep = digital != sentinel
        digital, counts = digital[keep], counts[keep]
    return DigitalCounts(digital, counts, n_samples, checksum_ok)


def _fast_path_ok(signals: list[Signal]) -> bool:
    fmts = {s.fmt for s in signals}
    return (
        len(fmts) == 1
        and next(iter(fmts)) in _FAST_FORMATS
        and all(s.samps_per_frame == 1 and s.skew == 0 for s in signals)
        and len({s.byte_offset for s in signals}) == 1
    )


def _byte_pair_histograms(raw: bytes, n_frames: int, n_ch: int) -> np.ndarray:
    """Per-channel counts of the bytes of interleaved 8-bit samples, shape (n_ch, 256).

    Two neighbouring channels are counted together as one 16-bit value (65,536
    bins) and split afterwards: half the bincount passes of counting each
    channel on its own.
    """
    hist = np.zeros((n_ch, 256), dtype=np.int64)
    for first in range(0, n_ch - 1, 2):
        # Strided 16-bit view: low byte = channel `first`, high byte = `first + 1`.
        pairs = np.ndarray((n_frames,), dtype="<u2", buffer=raw, offset=first, strides=(n_ch,))
        joint = np.zeros(1 << 16, dtype=np.int64)
        for begin in range(0, n_frames, BLOCK_FRAMES):
            joint += np.bincount(pairs[begin : begin + BLOCK_FRAMES], minlength=1 << 16)
        joint = joint.reshape(256, 256)  # [high byte, low byte]
        hist[first] = joint.sum(axis=0)
        hist[first + 1] = joint.sum(axis=1)
    if n_ch % 2:
        last = np.ndarray((n_frames,), dtype="u1", buffer=raw, offset=n_ch - 1, strides=(n_ch,))
        for begin in range(0, n_frames, BLOCK_FRAMES):
            hist[n_ch - 1] += np.bincount(last[begin : begin + BLOCK_FRAMES], minlength=256)
    return hist


def _word_histograms(raw: bytes, n_frames: int, n_ch: int) -> np.ndarray:
    """Per-channel counts of interleaved 16-bit samples, shape (n_ch, 65536)."""
    frames = np.frombuffer(raw, dtype="<u2", count=n_frames * n_ch).reshape(n_frames, n_ch)
    hist = np.zeros((n_ch, 1 << 16), dtype=np.int64)
    for begin in range(0, n_frames, BLOCK_FRAMES):
        block = frames[begin : begin + BLOCK_FRAMES]
        for ch in range(n_ch):
            # xor 0x8000 maps two's complement -32768..32767 onto bins 0..65535
            hist[ch] += np.bincount(block[:, ch] ^ 0x8000, minlength=1 << 16)
    return hist


_HISTOGRAMS = {"80": (1, _byte_pair_histograms), "16": (2, _word_histograms)}


def _count_file(
    group: GroupFolder, rel: str, signals: list[Signal], sig_len: int
) -> list[DigitalCounts]:
    fmt = signals[0].fmt
    sample_bytes, histograms = _HISTOGRAMS[fmt]
    n_ch = len(signals)
    start = signals[0].byte_offset
    n_bytes = sig_len * n_ch * sample_bytes
    raw = group.read_bytes(rel, start, start + n_bytes)
    if len(raw) < n_bytes:
        raise EOFError(f"{rel}: expected {n_bytes} bytes of samples, read {len(raw)}")
    hist = histograms(raw, sig_len, n_ch)
    digital = np.arange(hist.shape[1], dtype=np.int64) - _BIN_ZERO[fmt]
    return [_finish(sig, digital, hist[ch]) for ch, sig in enumerate(signals)]


def digital_samples_with_wfdb(group: GroupFolder, task: SegmentTask) -> list[np.ndarray]:
    """A segment's digital samples as wfdb reads them, each signal at its own rate.

    For any format wfdb reads; off local disk, the segment's files are staged in a
    temporary folder first (wfdb reads local files only).
    """

    def read(record_dir: str) -> list[np.ndarray]:
        record = wfdb.rdrecord(
            posixpath.join(record_dir, task.segment), physical=False, smooth_frames=False
        )
        return list(record.e_d_signal)

    if group.is_local:
        return read(posixpath.dirname(group.path(task.header_path)))
    # stage this one segment, then let it go
    with tempfile.TemporaryDirectory(prefix="waveshard-") as tmp:
        for rel in (task.header_path, *task.dat_paths):
            Path(tmp, posixpath.basename(rel)).write_bytes(group.read_bytes(rel))
        return read(tmp)


def _count_with_wfdb(group: GroupFolder, task: SegmentTask) -> list[DigitalCounts]:
    """Any format wfdb reads: digital samples, counted with ``np.unique``."""
    channels = digital_samples_with_wfdb(group, task)
    results = []
    for signal, samples in zip(task.header.signals, channels, strict=True):
        digital, counts = np.unique(samples.astype(np.int64), return_counts=True)
        results.append(_finish(signal, digital, counts))
    return results


def count_digital_values(group: GroupFolder, task: SegmentTask) -> list[DigitalCounts]:
    """Count each channel's digital values in one segment.

    Args:
        group: The group folder the segment lives in.
        task: The segment, as discovery found it.

    Returns:
        One :class:`DigitalCounts` per signal, in header order.
    """
    header = task.header
    if task.sig_len == 0:
        empty = np.zeros(0, dtype=np.int64)
        return [DigitalCounts(empty, empty, 0, None) for _ in header.signals]
    by_file: dict[str, list[Signal]] = {}
    for signal in header.signals:
        by_file.setdefault(signal.file_name, []).append(signal)
    if not all(_fast_path_ok(signals) for signals in by_file.values()):
        return _count_with_wfdb(group, task)
    folder = posixpath.dirname(task.header_path)
    counted: dict[str, list[DigitalCounts]] = {
        name: _count_file(group, posixpath.join(folder, name), signals, task.sig_len)
        for name, signals in by_file.items()
    }
    # Back to header order when signals are spread over several files.
    position = {name: 0 for name in by_file}
    ordered = []
    for signal in header.signals:
        ordered.append(counted[signal.file_name][position[signal.file_name]])
        position[signal.file_name] += 1
    return ordered

"""Real WFDB records read with wfdb and placed on their record's timeline (test support).

The pipeline has its own reader; the tests of the WFDB-free clinical layer
read records the plain way (``wfdb.rdrecord``, physical values) and place each
segment by the master header's segment lengths, ``~`` gaps included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import wfdb

from waveshard.features.clinical import Channel, Piece

#: Lowest and highest valid digital value per storage format (the lowest
#: representable value of these formats marks an invalid sample).
_DIGITAL_LIMITS = {"80": (-127, 127), "16": (-32767, 32767), "212": (-2047, 2047)}


def header_start(header: wfdb.Record | wfdb.MultiRecord) -> np.datetime64 | None:
    """Absolute start of a record from its base date and time, in milliseconds."""
    if header.base_date is None or header.base_time is None:
        return None
    return np.datetime64(dt.datetime.combine(header.base_date, header.base_time), "ms")


def _channels(record: wfdb.Record) -> list[Channel]:
    channels = []
    for i, name in enumerate(record.sig_name):
        limits = _DIGITAL_LIMITS.get(record.fmt[i])
        adc_range = None
        if limits is not None:
            low, high = ((d - record.baseline[i]) / record.adc_gain[i] for d in limits)
            adc_range = (min(low, high), max(low, high))
        channels.append(
            Channel(name, record.p_signal[:, i], float(record.fs), record.units[i], adc_range)
        )
    return channels


def record_pieces(folder: Path, master: str) -> Iterator[Piece]:
    """Every readable segment of a multi-segment record, then its numerics.

    Segments whose data file is missing are skipped (the pipeline reports
    them as errors); the numerics record ``<master>n`` joins when present.
    """
    header = wfdb.rdheader(str(folder / master))
    offsets = np.concatenate([[0], np.cumsum(header.seg_len)])
    for name, offset, length in zip(header.seg_name, offsets, header.seg_len, strict=False):
        if name == "~" or length == 0 or name.endswith("_layout"):
            continue
        if not (folder / f"{name}.dat").exists():
            continue
        record = wfdb.rdrecord(str(folder / name))
        yield Piece(float(offset / header.fs), _channels(record))
    numerics_path = folder / f"{master}n.hea"
    if numerics_path.exists():
        numerics = wfdb.rdrecord(str(folder / f"{master}n"))
        start, numerics_start = header_start(header), header_start(numerics)
        offset = 0.0
        if start is not None and numerics_start is not None:
            offset = (numerics_start - start) / np.timedelta64(1, "s")
        yield Piece(float(offset), _channels(numerics), numerics=True)

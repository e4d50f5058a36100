"""What a record is fed as: pieces of channels, and the per-piece columns they leave.

A :class:`Piece` is one segment's channels (or the monitor's numerics) placed on
the record's timeline; :class:`RecordWindows` reduces each piece at once into
:class:`PieceColumns`, append-only arrays whose additions a failing piece can withdraw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Channel:
    """One signal of a piece.

    Attributes:
        name: Signal name as the header writes it (``II``, ``ABP``, ``HR``).
        values: Physical values as float64, NaN where the sample is invalid.
        fs: Sampling frequency in Hz (several rates may share a piece).
        units: Physical units as the header writes them.
        adc_range: Physical values of the lowest and highest valid digital
            value (for the clipping test), or None when unknown.
    """

    name: str
    values: np.ndarray
    fs: float
    units: str = ""
    adc_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Piece:
    """Channels that start together, ``offset_s`` seconds after the record's start.

    Attributes:
        offset_s: Where the piece's first sample lies on the record's timeline.
        channels: Its signals.
        numerics: True when the channels are the monitor's numerics.
    """

    offset_s: float
    channels: Sequence[Channel]
    numerics: bool = False


class PieceColumns:
    """Arrays appended piece by piece, concatenated when read.

    Additions are staged until :meth:`commit`, so a piece whose analysis fails
    half-way leaves nothing behind.
    """

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = defaultdict(list)
        self._staged: list[tuple[str, np.ndarray]] = []

    def add(self, **arrays: np.ndarray) -> None:
        self._staged.extend((name, np.asarray(values)) for name, values in arrays.items())

    def commit(self) -> None:
        for name, values in self._staged:
            self._parts[name].append(values)
        self._staged.clear()

    def discard(self) -> None:
        self._staged.clear()

    def __getitem__(self, name: str) -> np.ndarray:
        parts = self._parts.get(name)
        return np.concatenate(parts) if parts else np.zeros(0)

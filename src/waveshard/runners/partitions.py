"""What a job's input holds, and how it splits into partitions (pure, no I/O).

An input prefix is split along its first-level entries, never inside one: each
first-level folder, with everything below it, is a *unit* (a record folder in a
``<group>/<record>/`` tree keeps its master, layout, segment and numerics files
together), and the loose files directly under the prefix form one more unit. A
partition is a contiguous run of units in name order; partitions are balanced by
bytes and hold at most ``max_bytes`` unless a single unit is larger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A first-level folder of an input prefix, or (``name == ""``) its loose files.

    Attributes:
        name: Folder name relative to the prefix; ``""`` for the loose files.
        keys: Every file of the unit, relative to the prefix.
        bytes: Their total size.
    """

    name: str
    keys: tuple[str, ...]
    bytes: int

    @property
    def entries(self) -> list[str]:
        """First-level names the unit covers: the folder, or each loose file."""
        return list(self.keys) if self.name == "" else [self.name]


@dataclass(frozen=True)
class Inventory:
    """Every file below one input prefix, grouped into units (sorted by name).

    Attributes:
        uri: The input prefix.
        units: Its units, in name order (the loose files first).
    """

    uri: str
    units: tuple[Unit, ...]

    @classmethod
    def of(cls, uri: str, files: Iterable[tuple[str, int]]) -> Inventory:
        """Group ``(relative key, size)`` pairs into units."""
        grouped: dict[str, list[tuple[str, int]]] = {}
        for key, size in files:
            name = key.split("/", 1)[0] if "/" in key else ""
            grouped.setdefault(name, []).append((key, int(size)))
        units = tuple(
            Unit(name, tuple(sorted(k for k, _ in found)), sum(s for _, s in found))
            for name, found in sorted(grouped.items())
        )
        return cls(uri, units)

    @property
    def files(self) -> int:
        return sum(len(u.keys) for u in self.units)

    @property
    def bytes(self) -> int:
        return sum(u.bytes for u in self.units)

    @property
    def entries(self) -> int:
        """First-level entries: folders and loose files."""
        return sum(len(u.entries) for u in self.units)

    @property
    def folders(self) -> int:
        """First-level folders (the records of a ``<group>/<record>/`` tree)."""
        return sum(1 for u in self.units if u.name)


@dataclass(frozen=True)
class Partition:
    """A contiguous run of an inventory's units, read by one job.

    Attributes:
        index: Position among the input's partitions (from 0).
        count: Number of partitions of the input.
        units: The units, in name order.
    """

    index: int
    count: int
    units: tuple[Unit, ...]

    @property
    def label(self) -> str:
        """``part-0003``: the partition's folder name and job-name suffix."""
        return f"part-{self.index:04d}"

    @property
    def entries(self) -> list[str]:
        """The first-level names the job reads (its record list)."""
        return [entry for unit in self.units for entry in unit.entries]

    @property
    def keys(self) -> list[str]:
        return [key for unit in self.units for key in unit.keys]

    @property
    def folders(self) -> int:
        """First-level folders (records) of the partition."""
        return sum(1 for u in self.units if u.name)

    @property
    def files(self) -> int:
        return sum(len(u.keys) for u in self.units)

    @property
    def bytes(self) -> int:
        return sum(u.bytes for u in self.units)


def split(inventory: Inventory, max_bytes: float | None) -> list[Partition]:
    """Contiguous, byte-balanced partitions of at most ``max_bytes`` each.

    The fewest partitions that respect ``max_bytes`` (a unit larger than it is a
    partition of its own), then the most even cut into that many: the smallest
    largest-partition size is found by bisection over greedy fills, which is exact
    for contiguous runs.

    Args:
        inventory: What the input holds.
        max_bytes: Largest partition; ``None`` keeps the input whole.

    Returns:
        One partition (possibly without units, for an empty input) or several,
        each with at least one unit.
    """
    units = list(inventory.units)
    total = sum(u.bytes for u in units)
    if max_bytes is None or total <= max_bytes or len(units) <= 1:
        return [Partition(0, 1, tuple(units))]
    count = len(_fill(units, max_bytes))
    # The smallest capacity (never above max_bytes) that still needs only `count` runs.
    low, high = 1, max(1, int(max_bytes))
    while low < high:
        middle = (low + high) // 2
        if len(_fill(units, middle)) <= count:
            high = middle
        else:
            low = middle + 1
    runs = _fill(units, low)
    return [Partition(i, len(runs), tuple(run)) for i, run in enumerate(runs)]


def _fill(units: list[Unit], capacity: float) -> list[list[Unit]]:
    """Contiguous runs, each filled up to ``capacity`` bytes (a larger unit alone)."""
    runs: list[list[Unit]] = [[]]
    size = 0
    for unit in units:
        if runs[-1] and size + unit.bytes > capacity:
            runs.append([])
            size = 0
        runs[-1].append(unit)
        size += unit.bytes
    return runs

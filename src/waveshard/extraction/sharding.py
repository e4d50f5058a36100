"""Byte-balanced micro-shards (longest-processing-time-first)."""

from __future__ import annotations

import heapq
from collections.abc import Sequence


def plan_shards(sizes: Sequence[int], n_shards: int) -> list[list[int]]:
    """Split items into at most ``n_shards`` shards of near-equal total size.

    Items are placed largest first, each into the currently lightest shard (LPT),
    which keeps the heaviest shard within 4/3 of the optimum.

    Args:
        sizes: Size of each item (bytes); items are referred to by position.
        n_shards: Upper bound on the number of shards.

    Returns:
        Shards as lists of item positions, heaviest shard first, none empty.
    """
    if n_shards < 1:
        raise ValueError(f"n_shards must be at least 1, got {n_shards}")
    n_shards = min(n_shards, len(sizes))
    heap = [(0, shard) for shard in range(n_shards)]
    shards: list[list[int]] = [[] for _ in range(n_shards)]
    totals = [0] * n_shards
    for item in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        total, shard = heapq.heappop(heap)
        shards[shard].append(item)
        totals[shard] = total + sizes[item]
        heapq.heappush(heap, (totals[shard], shard))
    order = sorted(range(n_shards), key=lambda s: -totals[s])
    return [shards[s] for s in order if shards[s]]

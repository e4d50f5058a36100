"""Micro-shards are byte-balanced and lose nothing."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from waveshard.extraction.parallel import resolve_workers
from waveshard.extraction.sharding import plan_shards


def test_every_item_lands_in_exactly_one_shard() -> None:
    sizes = np.random.default_rng(0).lognormal(10, 2, size=500).astype(int).tolist()
    shards = plan_shards(sizes, 8)
    assert sorted(i for shard in shards for i in shard) == list(range(500))
    assert len(shards) == 8


def test_lpt_balances_skewed_sizes() -> None:
    sizes = np.random.default_rng(1).lognormal(10, 2, size=400).astype(int).tolist()
    shards = plan_shards(sizes, 4)
    totals = [sum(sizes[i] for i in shard) for shard in shards]
    lower_bound = max(sum(sizes) / 4, *sizes)
    assert max(totals) <= 4 / 3 * lower_bound
    assert totals == sorted(totals, reverse=True)


def test_naive_equal_count_chunks_are_worse_than_lpt() -> None:
    sizes = [1000] + [1] * 99
    lpt = max(sum(sizes[i] for i in s) for s in plan_shards(sizes, 2))
    equal_count = max(sum(sizes[:50]), sum(sizes[50:]))
    assert lpt == 1000 < equal_count


def test_one_shard_holds_every_item_largest_first() -> None:
    assert plan_shards([3, 1, 2, 5], 1) == [[3, 0, 2, 1]]


def test_fewer_items_than_shards_and_bad_counts() -> None:
    assert plan_shards([5, 3], 10) == [[0], [1]]
    assert plan_shards([], 3) == []
    with pytest.raises(ValueError, match="n_shards"):
        plan_shards([1], 0)


def test_worker_count_defaults_to_joblib_cpu_count() -> None:
    assert resolve_workers(None) == joblib.cpu_count()
    assert resolve_workers(3) == 3
    with pytest.raises(ValueError, match="n_workers"):
        resolve_workers(0)

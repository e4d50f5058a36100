"""Partitions: records whole, bytes balanced, nothing lost; reading a dataset in parts."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from waveshard.runners.partitions import Inventory, split
from waveshard.runners.parts import PartsNotSupported, read_in_parts


def _archive(seed: int, records: int = 120) -> Inventory:
    rng = random.Random(seed)
    files = [("RECORDS", 64)]
    for _ in range(records):
        name = f"{3000000 + rng.randrange(100000):07d}"
        files += [(f"{name}/{name}.hea", 400), (f"{name}/{name}_layout.hea", 300)]
        for s in range(1, rng.randint(1, 30)):
            files += [
                (f"{name}/{name}_{s:04d}.hea", 200),
                (f"{name}/{name}_{s:04d}.dat", int(rng.lognormvariate(14, 2))),
            ]
        files += [(f"{name}/{name}n.hea", 300), (f"{name}/{name}n.dat", rng.randint(10**3, 10**6))]
    return Inventory.of("s3://raw/mimic3wdb/1.0/30", files)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("max_mb", [1, 20, 100, 1e6])
def test_partitions_keep_records_whole_and_lose_nothing(seed: int, max_mb: float) -> None:
    inventory = _archive(seed)
    parts = split(inventory, max_mb * 1e6)
    # every file in exactly one partition, in order; a record never split
    assert [k for p in parts for k in p.keys] == [k for u in inventory.units for k in u.keys]
    owner = {}
    for part in parts:
        for key in part.keys:
            owner.setdefault(key.split("/")[0] if "/" in key else "", set()).add(part.index)
    assert all(len(found) == 1 for found in owner.values())
    # at most max bytes, unless one record alone is larger
    assert all(p.bytes <= max_mb * 1e6 or len(p.units) == 1 for p in parts)
    # no more partitions than filling each up to the limit would need
    fill, size = 1, 0
    for unit in inventory.units:
        if size and size + unit.bytes > max_mb * 1e6:
            fill, size = fill + 1, 0
        size += unit.bytes
    assert len(parts) == fill
    assert {p.count for p in parts} == {len(parts)}
    assert [p.label for p in parts] == [f"part-{i:04d}" for i in range(len(parts))]


def test_partitions_are_balanced_by_bytes() -> None:
    inventory = _archive(1, records=400)
    parts = split(inventory, inventory.bytes / 9.5)
    sizes = [p.bytes for p in parts]
    largest_record = max(u.bytes for u in inventory.units)
    assert len(parts) == 10
    assert max(sizes) - min(sizes) <= 2 * largest_record


def test_an_empty_input_is_one_partition_without_records() -> None:
    (only,) = split(Inventory.of("s3://raw/30", []), 1e9)
    assert (only.files, only.entries, only.count) == (0, [], 1)


def _concat(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"x": []})


def _named(a: pd.DataFrame) -> pd.DataFrame:
    return a


def test_a_dataset_in_parts_is_spread_into_the_readers_args() -> None:
    catalog = DataCatalog(
        {
            "g1_table": MemoryDataset(),
            "g2_table": MemoryDataset(pd.DataFrame({"x": [9]})),
            "all": MemoryDataset(),
        }
    )
    pipeline = Pipeline([Node(_concat, ["g1_table", "g2_table"], "all", name="combine")])
    parts = {
        "g1_table": [
            MemoryDataset(pd.DataFrame({"x": [1, 2]})),
            MemoryDataset(pd.DataFrame({"x": [3]})),
        ]
    }
    rewired = read_in_parts(pipeline, catalog, parts)
    (node,) = rewired.nodes
    inputs = {name: catalog.load(name) for name in node.inputs}
    assert list(node.run(inputs)["all"]["x"]) == [1, 2, 3, 9]
    # the registered pipeline's node is left as it was
    (original,) = pipeline.nodes
    assert original.func is _concat and original.inputs == ["g1_table", "g2_table"]
    # a dataset read as no parts at all (a failed namespace, allow_partial=true)
    rewired = read_in_parts(pipeline, catalog, {"g1_table": []})
    (node,) = rewired.nodes
    inputs = {name: catalog.load(name) for name in node.inputs}
    assert list(node.run(inputs)["all"]["x"]) == [9]


def test_only_nodes_taking_args_read_parts() -> None:
    catalog = DataCatalog({"g1_table": MemoryDataset(), "out": MemoryDataset()})
    pipeline = Pipeline([Node(_named, "g1_table", "out", name="one")])
    with pytest.raises(PartsNotSupported, match="only nodes whose function takes \\*args"):
        read_in_parts(pipeline, catalog, {"g1_table": []})

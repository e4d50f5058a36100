"""What the jobs' inputs hold: listed from storage, or read from a listing file."""

from __future__ import annotations

from waveshard.runners import storage
from waveshard.runners.partitions import Inventory
from waveshard.runners.settings import SettingsError


class Inventories:
    """What each input prefix holds, listed once per run."""

    def __init__(self) -> None:
        self._found: dict[str, Inventory] = {}

    def __call__(self, uri: str) -> Inventory:
        if uri not in self._found:
            self._found[uri] = Inventory.of(uri, storage.walk(uri))
        return self._found[uri]


class ListingInventories:
    """What each input prefix holds, according to a listing file instead of the bucket.

    The listing is a CSV file with columns ``key,size``. A key is a full location
    (``s3://bucket/prefix/30/3000003/3000003.hea``) or a path relative to the folder
    holding the inputs (``30/3000003/3000003.hea`` for the input ``<raw_root>/30``),
    as ``waveshard make-listing`` and ``aws s3 ls --recursive`` (reformatted) give it.
    """

    def __init__(self, path: str) -> None:
        import numpy as np
        import pandas as pd

        try:
            table = pd.read_csv(path, dtype={"key": str, "size": "int64"})
        except (OSError, ValueError) as exc:
            raise SettingsError(
                f"listing={path} cannot be read as a CSV file with columns key,size: {exc}"
            ) from exc
        if list(table.columns[:2]) != ["key", "size"]:
            raise SettingsError(
                f"listing={path} must have the columns key,size (it has {list(table.columns)})."
            )
        table = table.sort_values("key", kind="stable")
        self._keys = table["key"].to_numpy(dtype=object)
        self._sizes = table["size"].to_numpy(dtype=np.int64)
        self.files, self.bytes = len(table), int(table["size"].sum())
        self._found: dict[str, Inventory] = {}

    def __call__(self, uri: str) -> Inventory:
        if uri not in self._found:
            name = uri.rstrip("/").rsplit("/", 1)[-1]
            files: list[tuple[str, int]] = []
            for prefix in (uri.rstrip("/") + "/", name + "/"):
                low = int(self._keys.searchsorted(prefix, side="left"))
                high = int(self._keys.searchsorted(prefix + "\U0010ffff", side="left"))
                files += [
                    (str(k)[len(prefix) :], int(n))
                    for k, n in zip(self._keys[low:high], self._sizes[low:high], strict=True)
                ]
            self._found[uri] = Inventory.of(uri, files)
        return self._found[uri]

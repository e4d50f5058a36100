"""Custom Kedro datasets of waveshard."""

from typing import Any

from waveshard.datasets.atomic import CSVDataset, JSONDataset, ParquetDataset
from waveshard.datasets.wfdb_group_dataset import WfdbGroupDataset

__all__ = [
    "CSVDataset",
    "FigureDataset",
    "JSONDataset",
    "ParquetDataset",
    "TextDataset",
    "WfdbGroupDataset",
]

#: Imported on first use: kedro-datasets' Matplotlib dataset imports pyplot (about a
#: second of start-up), which a process that writes no report (a group's job) never needs.
_REPORTS = {"FigureDataset", "TextDataset"}


def __getattr__(name: str) -> Any:
    if name in _REPORTS:
        from waveshard.datasets import reports

        return getattr(reports, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

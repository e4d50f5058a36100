"""Custom Kedro datasets of waveshard."""

from waveshard.datasets.atomic import CSVDataset, JSONDataset, ParquetDataset
from waveshard.datasets.reports import FigureDataset, TextDataset
from waveshard.datasets.wfdb_group_dataset import WfdbGroupDataset

__all__ = [
    "CSVDataset",
    "FigureDataset",
    "JSONDataset",
    "ParquetDataset",
    "TextDataset",
    "WfdbGroupDataset",
]

"""Custom Kedro datasets of waveshard."""

from waveshard.datasets.wfdb_group_dataset import WfdbGroupDataset

__all__ = ["WfdbGroupDataset"]

"""``WfdbGroupDataset``: a patient-group folder of WFDB records, listed once."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError

from waveshard.uris import normalize
from waveshard.wfdb_io.storage import GroupFolder


class WfdbGroupDataset(AbstractDataset[None, GroupFolder]):
    """Loads a patient-group folder (local or any fsspec URL) as a :class:`GroupFolder`.

    Loading lists the folder once (file paths and sizes); headers and data files
    are read later by the nodes through the same filesystem. A folder that does
    not exist loads as an empty listing with ``exists=False``, so a configured
    group that is absent yields empty outputs instead of a crash.

    Example catalog entry (``conf/base/catalog.yml``):

    .. code-block:: yaml

        "group_{group}.raw_records":
          type: waveshard.datasets.WfdbGroupDataset
          path: ${runtime_params:raw_root, ${globals:raw_root}}/{group}

    Args:
        path: Folder of the group, e.g. ``data/01_raw/30`` or ``s3://bucket/mimic3wdb/30``;
            repeated and trailing slashes are dropped (``s3://b/mimic3wdb/1.0//30`` is
            ``s3://b/mimic3wdb/1.0/30``), so a root written with a trailing slash
            names the same folder.
        group: Group id; defaults to the folder's last path component.
        records: Only these records (``<group>/<record>/`` folder names, or files
            directly in the group folder); ``None`` reads the whole group.
        records_file: A text file (local or fsspec URL) listing such names, one per
            line, instead of ``records``; how a job reading one partition of a
            group learns which records are its.
        credentials: Passed to the fsspec filesystem (e.g. ``key``/``secret`` for S3).
        fs_args: Extra fsspec filesystem arguments (e.g. ``client_kwargs``).
        metadata: Free-form metadata, ignored by Kedro.
    """

    def __init__(
        self,
        *,
        path: str,
        group: str | None = None,
        records: list[str] | None = None,
        records_file: str | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if records is not None and records_file is not None:
            raise DatasetError("Give records or records_file, not both.")
        self._path = normalize(str(path))
        self._group = group or self._path.rsplit("/", 1)[-1]
        self._records = None if records is None else [str(r) for r in records]
        self._records_file = records_file
        self._storage_options = {**(credentials or {}), **(fs_args or {})}
        self.metadata = metadata

    @property
    def path(self) -> str:
        """The group folder, as configured (local path or fsspec URL)."""
        return self._path

    @property
    def group(self) -> str:
        """The patient-group id."""
        return self._group

    @property
    def storage_options(self) -> dict[str, Any]:
        """Options the fsspec filesystem is opened with (credentials included)."""
        return dict(self._storage_options)

    @property
    def records(self) -> list[str] | None:
        """The records this dataset reads (``None``: the whole group)."""
        if self._records_file is None:
            return self._records
        import fsspec

        with fsspec.open(self._records_file, "r") as handle:
            return [line.strip() for line in handle if line.strip()]

    def load(self) -> GroupFolder:
        return GroupFolder.scan(self._group, self._path, self._storage_options, self.records)

    def save(self, data: None) -> None:
        raise DatasetError(
            f"{type(self).__name__} is read-only: raw WFDB trees are inputs. "
            "Write outputs to a different catalog entry."
        )

    def _exists(self) -> bool:
        return self.load().exists

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path, "group": self._group, "records_file": self._records_file}

"""kedro-datasets' Parquet, CSV and JSON datasets with all-or-nothing saves.

kedro-datasets streams a save into ``fs.open(...)``; if the run dies mid-write,
a local file is left truncated and fsspec's ``close()`` still uploads what was
written to S3. A truncated CSV or JSON may then load as if it were valid. These
subclasses serialize in memory first and commit the bytes in one step: a local
file is written beside the target and renamed over it (``os.replace`` is atomic
on POSIX); an object store gets one ``pipe_file`` (a single PUT, or a multipart
upload that only becomes visible when completed), which also carries the
filesystem's ``s3_additional_kwargs`` (e.g. SSE-KMS).

A local output gets the permissions any other writer's new file gets: the file
beside the target is created with mode ``0o666`` and the kernel applies the
process's umask (and a folder's default ACL, where there is one), as for
``open(path, "w")``. ``tempfile.mkstemp`` would create it ``0o600`` and leave
every output unreadable to the rest of a team on a shared file system. The
umask is never read or changed for this (``os.umask`` can only be read by
setting it, which would race with other threads).
"""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from fsspec.implementations.local import LocalFileSystem
from kedro.io.core import get_filepath_str
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.pandas import ParquetDataset as _ParquetDataset

#: Mode a new file is asked for; the umask takes away what the user does not grant.
_NEW_FILE_MODE = 0o666


def _commit(dataset: Any, payload: bytes) -> None:
    path = get_filepath_str(dataset._get_save_path(), dataset._protocol)
    fs = dataset._fs
    if isinstance(fs, LocalFileSystem):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
        # O_EXCL: a fresh file of our own; 0o666 & ~umask, as any other writer's.
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _NEW_FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(staging, target)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
    else:
        fs.pipe_file(path, payload)
    dataset._invalidate_cache()


class ParquetDataset(_ParquetDataset):
    """``pandas.ParquetDataset`` whose save is all-or-nothing.

    Example catalog entry:

    .. code-block:: yaml

        segment_features:
          type: waveshard.datasets.ParquetDataset
          filepath: s3://bucket/prefix/04_feature/segment_features.parquet
          save_args:
            compression: snappy
    """

    def save(self, data: pd.DataFrame) -> None:
        buffer = io.BytesIO()
        data.to_parquet(buffer, **self._save_args)
        _commit(self, buffer.getvalue())


class CSVDataset(_CSVDataset):
    """``pandas.CSVDataset`` whose save is all-or-nothing.

    Example catalog entry:

    .. code-block:: yaml

        signal_stats:
          type: waveshard.datasets.CSVDataset
          filepath: data/08_reporting/signal_stats.csv
          save_args:
            index: false
    """

    def save(self, data: pd.DataFrame) -> None:
        save_args = dict(self._save_args)
        encoding = save_args.pop("encoding", None) or "utf-8"
        _commit(self, data.to_csv(**save_args).encode(encoding))


class JSONDataset(_JSONDataset):
    """``json.JSONDataset`` whose save is all-or-nothing.

    Example catalog entry:

    .. code-block:: yaml

        run_summary:
          type: waveshard.datasets.JSONDataset
          filepath: data/08_reporting/run_summary.json
    """

    def save(self, data: Any) -> None:
        _commit(self, json.dumps(data, **self._save_args).encode("utf-8"))

"""kedro-datasets' Matplotlib and text datasets with all-or-nothing saves, for reports.

Like the table datasets in :mod:`waveshard.datasets.atomic`, a figure or page is
rendered in memory and committed in one step (a local rename, or one upload on
an object store), so a killed run never leaves half a PNG behind.
"""

from __future__ import annotations

import io
from typing import Any

from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.text import TextDataset as _TextDataset
from matplotlib.figure import Figure

from waveshard.datasets.atomic import _commit


class FigureDataset(MatplotlibDataset):
    """``matplotlib.MatplotlibDataset`` for one figure per file, saved all-or-nothing.

    Loading returns the saved image's bytes (kedro-datasets' class cannot be
    loaded), so a later node can embed the figure in a report. kedro-viz shows
    the image as the dataset's preview.

    Example catalog entry:

    .. code-block:: yaml

        coverage_figure:
          type: waveshard.datasets.FigureDataset
          filepath: data/08_reporting/figures/coverage.png
          save_args:
            format: png
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {"format": "png"}  # noqa: RUF012 (as the parent's)

    def save(self, data: Figure) -> None:
        if not isinstance(data, Figure):
            raise DatasetError(
                f"{type(self).__name__} saves one matplotlib Figure per file, got "
                f"{type(data).__name__}; use kedro-datasets' MatplotlibDataset for a "
                "list or dict of figures."
            )
        buffer = io.BytesIO()
        data.savefig(buffer, **self._save_args)
        _commit(self, buffer.getvalue())

    def load(self) -> bytes:
        return self._fs.cat_file(get_filepath_str(self._get_load_path(), self._protocol))


class TextDataset(_TextDataset):
    """``text.TextDataset`` whose save is all-or-nothing (UTF-8).

    Example catalog entry:

    .. code-block:: yaml

        run_report:
          type: waveshard.datasets.TextDataset
          filepath: data/08_reporting/run_report.html
    """

    def save(self, data: str) -> None:
        _commit(self, data.encode("utf-8"))

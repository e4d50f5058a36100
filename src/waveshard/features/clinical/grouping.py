"""Per-group reductions with numpy (groups are small integer keys, e.g. windows).

pandas' groupby costs milliseconds per call in overhead alone; a record's
table needs some twenty of them, so counts, means, sums and quantiles are
computed here from one sort and index arithmetic instead.
"""

from __future__ import annotations

import numpy as np


class Groups:
    """Rows assigned to ``n`` groups by an index in ``[0, n)``.

    Args:
        index: Group of each row (int).
        n: Number of groups.
    """

    def __init__(self, index: np.ndarray, n: int) -> None:
        self.index = np.asarray(index, dtype=np.int64)
        self.n = n
        self.size = np.bincount(self.index, minlength=n) if len(self.index) else np.zeros(n, int)

    def sum(self, values: np.ndarray) -> np.ndarray:
        if not len(self.index):
            return np.zeros(self.n)
        return np.bincount(self.index, weights=values, minlength=self.n)

    def mean(self, values: np.ndarray, minimum: int = 1) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            result = self.sum(values) / self.size
        return np.where(self.size >= max(minimum, 1), result, np.nan)

    def quantile(self, values: np.ndarray, q: float, minimum: int = 1) -> np.ndarray:
        """Per-group quantile with numpy's default (linear) interpolation."""
        result = np.full(self.n, np.nan)
        if not len(self.index):
            return result
        order = np.lexsort((values, self.index))
        ordered = values[order]
        starts = np.cumsum(self.size) - self.size
        have = self.size >= max(minimum, 1)
        position = q * (self.size[have] - 1)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, self.size[have] - 1)
        fraction = position - low
        a = ordered[starts[have] + low]
        b = ordered[starts[have] + high]
        result[have] = a + (b - a) * fraction
        return result

    def median(self, values: np.ndarray, minimum: int = 1) -> np.ndarray:
        return self.quantile(values, 0.5, minimum)

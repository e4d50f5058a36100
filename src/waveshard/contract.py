"""The extraction contract: the tables waveshard publishes and the problem row.

Every table has one schema here (column names, order and dtypes), used by every
writer, so a table has the same dtypes whether it holds a million rows or none.
Later steps and users rely on these names; the README documents each column.
This module imports nothing else from waveshard: every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

#: The percentiles the statistics tables publish, as ``p01`` ... ``p99`` columns.
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
PERCENTILE_COLUMNS = tuple(f"p{q:02d}" for q in PERCENTILES)
STAT_COLUMNS = ("mean", "std", "min", "max", *PERCENTILE_COLUMNS)

#: The key of a ``record_features`` row.
RECORD_KEYS = ("group", "record", "kind", "signal", "units")

#: ``kind`` of a segment: a waveform segment or a numerics record.
WAVEFORM = "waveform"
NUMERICS = "numerics"

#: ``severity`` of a problem row: ``error`` where nothing of the segment could be
#: read, ``warning`` where it was read but something about it was odd.
ERROR = "error"
WARNING = "warning"

#: Longest problem message kept (characters); longer ones end in an ellipsis.
MESSAGE_LIMIT = 300

_STRING = "string"
#: Absolute times. MIMIC shifts dates into the years 2100-2900, past the end of
#: nanosecond timestamps (2262), so times are kept in milliseconds (NaT if unknown).
_TIME = "datetime64[ms]"
_STATS = dict.fromkeys(STAT_COLUMNS, "float64")


@dataclass(frozen=True)
class Table:
    """A published table: column names in order, each with its pandas dtype."""

    name: str
    dtypes: Mapping[str, str] = field(repr=False)

    @property
    def columns(self) -> list[str]:
        return list(self.dtypes)

    def frame(self, rows: Iterable[Mapping] = ()) -> pd.DataFrame:
        """A DataFrame of this schema from row mappings (extra keys are an error)."""
        rows = list(rows)
        unknown = {key for row in rows for key in row} - set(self.dtypes)
        if unknown:
            raise ValueError(f"{self.name}: columns {sorted(unknown)} are not in the contract")
        return self.conform(pd.DataFrame(rows, columns=self.columns))

    def conform(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data`` with exactly this table's columns, in order, with its dtypes."""
        missing = [c for c in self.columns if c not in data.columns]
        if missing:
            raise ValueError(f"{self.name}: columns {missing} are missing")
        data = data[self.columns]
        # Only the columns whose dtype differs: astype of every column costs ~1 ms each.
        changes = {c: d for c, d in self.dtypes.items() if str(data[c].dtype) != d}
        return (data.astype(changes) if changes else data).reset_index(drop=True)

    def concat(self, parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
        """Concatenate tables of this schema; empty parts are dropped (dtypes stay)."""
        non_empty = [self.conform(p) for p in parts if len(p)]
        if not non_empty:
            return self.frame()
        return self.conform(pd.concat(non_empty, ignore_index=True))

    def read_csv(self, path: Any, **kwargs: Any) -> pd.DataFrame:
        """A CSV copy of this table read back with this table's dtypes.

        CSV stores no dtypes (an empty table would come back as all ``object``,
        ``True``/``False`` as text), so the contract supplies them. Only empty
        fields are missing values: a signal named ``NA`` stays ``NA``.

        Args:
            path: Local path, URL or buffer, as for :func:`pandas.read_csv`.
            **kwargs: More :func:`pandas.read_csv` arguments (``storage_options``).
        """
        as_read = {
            c: (_STRING if d == _TIME else d) for c, d in self.dtypes.items() if d != "object"
        }
        data = pd.read_csv(path, dtype=as_read, keep_default_na=False, na_values=[""], **kwargs)
        return self.conform(data)


SEGMENT_INDEX = Table(
    "segment_index",
    {
        "group": _STRING,
        "record": _STRING,  # the master header's record name
        "record_dir": _STRING,  # the folder holding the record, relative to the group
        "segment": _STRING,
        "kind": _STRING,
        "record_start": _TIME,
        "record_duration_s": "float64",  # the master's span, gaps included
        "segment_start": _TIME,
        "header_path": _STRING,
        "dat_paths": "object",  # list of paths relative to the group folder
        "dat_bytes": "int64",
        "n_signals": "int64",
        "sig_len": "int64",
        "fs": "float64",
    },
)

SEGMENT_FEATURES = Table(
    "segment_features",
    {
        "group": _STRING,
        "record": _STRING,
        "record_dir": _STRING,
        "segment": _STRING,
        "kind": _STRING,
        "record_start": _TIME,
        "segment_start": _TIME,
        "channel": "int64",
        "signal_raw": _STRING,
        "signal": _STRING,
        "units": _STRING,
        "fs": "float64",
        "n_samples": "int64",
        "n_valid": "int64",
        "missing_fraction": "float64",
        "duration_s": "float64",  # n_samples / fs of this channel
        **_STATS,
        "fmt": "int64",
        "adc_gain": "float64",
        "baseline": "Int64",  # <NA> where the header's baseline does not fit 64 bits
        "checksum_ok": "boolean",  # <NA> where the header gives no checksum
    },
)

RECORD_FEATURES = Table(
    "record_features",
    {
        "group": _STRING,
        "record": _STRING,
        "record_dir": _STRING,
        "kind": _STRING,
        "signal": _STRING,
        "units": _STRING,
        "record_start": _TIME,
        "record_duration_s": "float64",  # the master's span, gaps included
        "fs": "float64",
        "n_segments": "int64",
        "duration_s": "float64",  # sum over the segments holding this signal
        "n_samples": "int64",
        "n_valid": "int64",
        "missing_fraction": "float64",
        **_STATS,
    },
)

EXTRACTION_ERRORS = Table(
    "extraction_errors",
    {
        "group": _STRING,
        "record": _STRING,
        "segment": _STRING,
        "path": _STRING,
        "error_type": _STRING,
        "severity": _STRING,
        "message": _STRING,
    },
)

SIGNAL_STATS = Table(
    "signal_stats",
    {
        "kind": _STRING,
        "signal": _STRING,
        "records": "int64",
        "groups": "int64",
        "segments": "int64",
        "total_hours": "float64",
        "valid_fraction": "float64",
    },
)


#: Columns of ``window_features`` after ``group`` and ``record`` and before the
#: monitor numerics (see README, "Clinical features").
WINDOW_COLUMNS: dict[str, str] = {
    "window_start": "datetime64[ms]",
    "window_offset_s": "float64",
    "window_s": "float64",
    "ecg_lead": _STRING,
    "n_beats": "int64",
    "hr_median_bpm": "float64",
    "hr_mean_bpm": "float64",
    "rr_mean_ms": "float64",
    "sdnn_ms": "float64",
    "rmssd_ms": "float64",
    "pnn50_pct": "float64",
    "hrv_n_nn": "int64",
    "abp_n_beats": "int64",
    "abp_rejected_fraction": "float64",
    "sbp_mmhg": "float64",
    "dbp_mmhg": "float64",
    "map_mmhg": "float64",
    "pp_mmhg": "float64",
    "abp_pulse_bpm": "float64",
    "map_below_65_s": "float64",
    "pleth_n_pulses": "int64",
    "pleth_pulse_bpm": "float64",
    "resp_n_breaths": "int64",
    "resp_rate_bpm": "float64",
}
#: Signals with per-window quality columns ``<signal>_<measure>_fraction``.
QUALITY_SIGNALS = ("ecg", "abp", "pleth", "resp")
QUALITY_MEASURES = ("valid", "flat", "clipped", "out_of_range")
#: The monitor numerics reported by default, as ``monitor_<name>`` columns.
DEFAULT_MONITOR_NUMERICS = (
    "hr", "pulse", "resp", "spo2",
    "abpsys", "abpdias", "abpmean",
    "nbpsys", "nbpdias", "nbpmean",
)  # fmt: skip


def window_features_table(
    monitor_numerics: Iterable[str] = DEFAULT_MONITOR_NUMERICS, *, keys: bool = True
) -> Table:
    """The ``window_features`` schema for a list of monitor numerics.

    Args:
        monitor_numerics: Normalized numeric names (``hr``, ``abpsys`` ...), one
            ``monitor_<name>`` column each, in this order.
        keys: Whether ``group`` and ``record`` lead (False: one record's table).
    """
    dtypes: dict[str, str] = {"group": _STRING, "record": _STRING} if keys else {}
    dtypes.update(WINDOW_COLUMNS)
    dtypes.update({f"monitor_{name}": "float64" for name in monitor_numerics})
    for signal in QUALITY_SIGNALS:
        for measure in QUALITY_MEASURES:
            dtypes[f"{signal}_{measure}_fraction"] = "float64"
    return Table("window_features", dtypes)


def bounded(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` made printable (other characters escaped) and cut to ``limit`` characters.

    A problem message may quote a damaged file; one megabyte of garbage must not
    become one megabyte of error table.
    """
    printable = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    if len(printable) <= limit:
        return printable
    return printable[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One row of ``extraction_errors``: something about a segment, and how bad it is.

    The message is bounded and printable whatever it quotes (see :func:`bounded`).
    """

    group: str
    record: str
    segment: str
    path: str
    error_type: str
    message: str
    severity: str = ERROR

    def __post_init__(self) -> None:
        if self.severity not in (ERROR, WARNING):
            raise ValueError(f"severity must be {ERROR!r} or {WARNING!r}, got {self.severity!r}")
        object.__setattr__(self, "path", bounded(str(self.path), 2 * MESSAGE_LIMIT))
        object.__setattr__(self, "message", bounded(str(self.message)))

    def row(self) -> dict[str, str]:
        return asdict(self)

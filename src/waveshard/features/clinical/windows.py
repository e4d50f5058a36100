"""Per-window clinical features of one record, built one piece at a time.

A record is fed as *pieces*: one segment's channels (physical float arrays,
NaN for invalid samples, each with its own sampling rate), or the monitor's
numerics, each placed on the record's timeline by its offset in seconds from
the record's start. Windows are fixed on that timeline: window ``k`` covers
``[k * window_s, (k + 1) * window_s)`` from the record's start, whatever the
pieces. A piece is reduced at once to small per-window counts and per-event
rows (beats, pulses, breaths); :meth:`RecordWindows.table` turns those into
one row per window. So memory is bounded by one piece, and a window that
straddles two pieces simply collects from both: its quality counts add up,
its beats are pooled. What a piece boundary does cost: no interval is formed
across it (detection restarts in each piece, so the RR interval from the last
beat of one segment to the first of the next is not counted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pandas as pd

from waveshard.contract import QUALITY_MEASURES, window_features_table
from waveshard.features.clinical.abp import abp_beats, pulse_onsets_in_spans
from waveshard.features.clinical.ecg import r_peaks_in_spans
from waveshard.features.clinical.grouping import Groups
from waveshard.features.clinical.hrv import trailing_hrv
from waveshard.features.clinical.pieces import Channel, Piece, PieceColumns
from waveshard.features.clinical.ppg import pleth_peaks_in_spans
from waveshard.features.clinical.quality import QUALITY_COUNTS, window_quality_counts
from waveshard.features.clinical.resp import breaths_in_spans
from waveshard.features.clinical.settings import (
    SIGNAL_KINDS,
    ClinicalSettings,
    normalize_numeric_name,
)
from waveshard.features.clinical.spans import finite_spans, same_span

#: Events closer than this to a window boundary (in samples) belong to the next
#: window: it absorbs the rounding of rates such as 0.0166666666667 Hz (1/min).
_BOUNDARY_TOLERANCE = 1e-3


def window_columns(settings: ClinicalSettings) -> dict[str, str]:
    """All columns of one record's window table and their dtypes, in order."""
    return dict(window_features_table(settings.monitor_numerics, keys=False).dtypes)


class RecordWindows:
    """Accumulates one record's pieces and produces its window table.

    Args:
        settings: Feature settings (defaults: :class:`ClinicalSettings`).
        start_time: Absolute time of the record's start (e.g. from the master
            header's base date and time); None when the record has no date,
            then ``window_start`` is NaT and ``window_offset_s`` still orders
            the windows.
    """

    def __init__(
        self, settings: ClinicalSettings | None = None, start_time: np.datetime64 | None = None
    ) -> None:
        self.settings = settings or ClinicalSettings()
        self.start_time = None if start_time is None else np.datetime64(start_time, "ms")
        self._quality = {kind: PieceColumns() for kind in SIGNAL_KINDS}
        self._leads = PieceColumns()
        self._ecg = PieceColumns()
        self._rr = PieceColumns()
        self._rr_diff = PieceColumns()
        self._abp = PieceColumns()
        self._pleth = PieceColumns()
        self._resp = PieceColumns()
        self._numerics = PieceColumns()

    # -- placing samples on the window grid ---------------------------------

    def _window_of(self, position: np.ndarray, first_sample: int, fs: float) -> np.ndarray:
        """Window index of (fractional) sample positions of a channel."""
        per_window = self.settings.window_s * fs
        return np.floor((first_sample + position + _BOUNDARY_TOLERANCE) / per_window).astype(
            np.int64
        )

    def _grid(self, n: int, first_sample: int, fs: float) -> tuple[np.ndarray, np.ndarray]:
        """Windows a channel of ``n`` samples touches and their first sample in it."""
        per_window = self.settings.window_s * fs
        first, last = self._window_of(np.array([0, n - 1]), first_sample, fs)
        windows = np.arange(first, last + 1, dtype=np.int64)
        bounds = np.rint(windows * per_window).astype(np.int64) - first_sample
        bounds[0] = 0
        return windows, bounds

    # -- one piece ------------------------------------------------------------

    def _stores(self) -> list[PieceColumns]:
        return [*self._quality.values(), self._leads, self._ecg, self._rr, self._rr_diff,
                self._abp, self._pleth, self._resp, self._numerics]  # fmt: skip

    def add(self, piece: Piece) -> None:
        """Reduce one piece to per-window counts and events.

        Bad sample values never raise; if anything else does, the piece leaves
        no trace and the exception propagates (the caller reports the piece).
        """
        try:
            if piece.numerics:
                self._add_numerics(piece)
            else:
                self._add_waveforms(piece)
        except BaseException:
            for store in self._stores():
                store.discard()
            raise
        for store in self._stores():
            store.commit()

    def _add_waveforms(self, piece: Piece) -> None:
        by_kind: dict[str, list[tuple]] = defaultdict(list)
        for channel in piece.channels:
            kind = self.settings.kind_of(channel.name)
            values = np.asarray(channel.values, dtype=np.float64)
            if kind is None or values.size == 0 or not channel.fs > 0:
                continue
            first_sample = round(piece.offset_s * channel.fs)
            windows, bounds = self._grid(len(values), first_sample, channel.fs)
            spans = finite_spans(values)
            counts = window_quality_counts(
                values,
                bounds,
                channel.fs,
                adc_range=channel.adc_range,
                physiological_range=self.settings.ranges.get(kind),
                flat_min_s=self.settings.flat_min_s,
                spans=spans,
            )
            by_kind[kind].append((channel, values, spans, first_sample, windows, counts))
        for kind, candidates in by_kind.items():
            channel, values, spans, first_sample, windows, counts = self._choose(kind, candidates)
            self._quality[kind].add(
                windows=windows, counts=counts, fs=np.full(len(windows), channel.fs)
            )
            if kind == "ecg":
                self._leads.add(
                    windows=windows,
                    present=counts[:, 0],
                    lead=np.full(len(windows), channel.name, dtype=object),
                )
            getattr(self, f"_add_{kind}")(channel, values, spans, first_sample)

    def _choose(self, kind: str, candidates: list) -> tuple:
        """The most usable channel of a kind: valid minus flat and clipped samples."""

        def score(item: tuple) -> tuple[int, int]:
            channel, counts = item[0], item[-1]
            usable = int(counts[:, 1].sum() - counts[:, 2].sum() - counts[:, 3].sum())
            return (-usable, self.settings.preference(kind, channel.name))

        return min(candidates, key=score)

    def _times(self, position: np.ndarray, first_sample: int, fs: float) -> np.ndarray:
        return (first_sample + position) / fs

    def _intervals(
        self,
        position: np.ndarray,
        spans: np.ndarray,
        first_sample: int,
        fs: float,
        limits: tuple[float, float],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Intervals between consecutive events in one valid run and within ``limits`` (s).

        Returns the closing event's time, the interval, and whether each pair of
        consecutive events formed a valid interval.
        """
        contiguous = same_span(np.floor(position).astype(np.int64), spans)
        interval = np.diff(position) / fs
        ok = contiguous & (interval >= limits[0]) & (interval <= limits[1])
        return self._times(position[1:], first_sample, fs), interval, ok

    def _rr_limits(self) -> tuple[float, float]:
        low, high = self.settings.hr_range_bpm
        return 60.0 / high, 60.0 / low

    def _add_ecg(
        self, channel: Channel, x: np.ndarray, spans: np.ndarray, first_sample: int
    ) -> None:
        beats = r_peaks_in_spans(x, channel.fs, spans)
        self._ecg.add(windows=self._window_of(beats, first_sample, channel.fs))
        if len(beats) < 2:
            return
        time, rr, ok = self._intervals(beats, spans, first_sample, channel.fs, self._rr_limits())
        windows = self._window_of(beats[1:], first_sample, channel.fs)
        self._rr.add(time=time[ok], rr=rr[ok], windows=windows[ok])
        # Successive differences only between NN intervals that share a beat.
        both = ok[1:] & ok[:-1]
        self._rr_diff.add(time=time[1:][both], diff=np.diff(rr)[both])

    def _add_abp(
        self, channel: Channel, x: np.ndarray, spans: np.ndarray, first_sample: int
    ) -> None:
        onsets = pulse_onsets_in_spans(x, channel.fs, spans)
        beats = abp_beats(x, channel.fs, onsets, self.settings.abp_rules, spans)
        if not len(beats):
            return
        self._abp.add(
            windows=self._window_of(beats.onset, first_sample, channel.fs),
            sbp=beats.sbp,
            dbp=beats.dbp,
            map=beats.map,
            pp=beats.pp,
            period=(beats.end - beats.onset) / channel.fs,
            rejected=beats.rejected,
        )

    def _add_pleth(
        self, channel: Channel, x: np.ndarray, spans: np.ndarray, first_sample: int
    ) -> None:
        peaks = pleth_peaks_in_spans(x, channel.fs, spans)
        self._pleth.add(
            windows=self._window_of(peaks, first_sample, channel.fs),
            interval=np.full(len(peaks), np.nan),
        )
        if len(peaks) < 2:
            return
        _time, interval, ok = self._intervals(
            peaks, spans, first_sample, channel.fs, self._rr_limits()
        )
        windows = self._window_of(peaks[1:], first_sample, channel.fs)
        self._pleth.add(windows=windows[ok], interval=interval[ok])

    def _add_resp(
        self, channel: Channel, x: np.ndarray, spans: np.ndarray, first_sample: int
    ) -> None:
        low, high = self.settings.resp_band_hz
        breaths = breaths_in_spans(x, channel.fs, spans, band_hz=(low, high))
        if not len(breaths):
            return
        interval = (breaths[:, 1] - breaths[:, 0]) / channel.fs
        ok = (interval >= 1.0 / high) & (interval <= 1.0 / low)
        windows = self._window_of(breaths[:, 1], first_sample, channel.fs)
        self._resp.add(windows=windows[ok], interval=interval[ok])

    def _add_numerics(self, piece: Piece) -> None:
        wanted = set(self.settings.monitor_numerics)
        for channel in piece.channels:
            name = normalize_numeric_name(channel.name)
            values = np.asarray(channel.values, dtype=np.float64)
            if name not in wanted or values.size == 0 or not channel.fs > 0:
                continue
            first_sample = round(piece.offset_s * channel.fs)
            windows = self._window_of(np.arange(len(values)), first_sample, channel.fs)
            # MIMIC writes 0 where a numeric was not measured (every numeric of
            # a minute is 0 when the monitor had no data); none of the reported
            # quantities is 0 in a monitored patient.
            keep = np.isfinite(values) & (values != 0)
            self._numerics.add(
                windows=windows[keep],
                values=values[keep],
                name=np.full(int(keep.sum()), name, dtype=object),
            )
            # Windows with a numeric present but missing still get a row.
            self._numerics.add(windows_seen=windows)

    # -- the table ------------------------------------------------------------

    def _all_windows(self) -> np.ndarray:
        seen = [self._quality[kind]["windows"] for kind in SIGNAL_KINDS]
        seen.append(self._numerics["windows_seen"])
        return np.unique(np.concatenate(seen).astype(np.int64))

    def table(self) -> pd.DataFrame:
        """One row per window that has any waveform sample or monitor numeric.

        Returns:
            A DataFrame with :func:`window_columns` in order and dtypes.
        """
        settings = self.settings
        columns = window_columns(settings)
        windows = self._all_windows()
        n = len(windows)
        out: dict[str, np.ndarray | pd.Series] = {}

        def groups(keys: np.ndarray) -> Groups:
            return Groups(np.searchsorted(windows, keys.astype(np.int64)), n)

        def count(keys: np.ndarray) -> np.ndarray:
            return groups(keys).size.astype(np.int64)

        def grouped(keys: np.ndarray, values: np.ndarray, how: str, minimum: int = 1) -> np.ndarray:
            finite = np.isfinite(values)
            by_window = groups(keys[finite])
            values = values[finite]
            if how == "sum":
                return np.where(by_window.size > 0, by_window.sum(values), np.nan)
            return getattr(by_window, how)(values, minimum)

        offset = windows * settings.window_s
        if self.start_time is not None:
            out["window_start"] = self.start_time + np.rint(offset * 1000).astype("timedelta64[ms]")
        else:
            out["window_start"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ms]")
        out["window_offset_s"] = offset.astype(np.float64)
        out["window_s"] = np.full(n, float(settings.window_s))

        out["ecg_lead"] = self._ecg_leads(windows)
        out["n_beats"] = count(self._ecg["windows"])
        rr_windows, rr = self._rr["windows"], self._rr["rr"]
        minimum = settings.min_intervals
        with np.errstate(divide="ignore"):
            out["hr_median_bpm"] = grouped(rr_windows, 60.0 / rr, "median", minimum)
            out["hr_mean_bpm"] = grouped(rr_windows, 60.0 / rr, "mean", minimum)
        out["rr_mean_ms"] = grouped(rr_windows, rr * 1000.0, "mean", minimum)
        hrv = trailing_hrv(
            self._rr["time"],
            rr,
            self._rr_diff["time"],
            self._rr_diff["diff"],
            window_end=(windows + 1) * settings.window_s,
            length_s=settings.hrv_window_s,
            min_coverage=settings.hrv_min_coverage,
        )
        out.update(hrv)

        abp_windows = self._abp["windows"]
        rejected = self._abp["rejected"].astype(bool)
        out["abp_n_beats"] = count(abp_windows)
        out["abp_rejected_fraction"] = grouped(abp_windows, rejected.astype(np.float64), "mean")
        good = ~rejected
        good_windows = abp_windows[good]
        for name, column in (
            ("sbp", "sbp_mmhg"),
            ("dbp", "dbp_mmhg"),
            ("map", "map_mmhg"),
            ("pp", "pp_mmhg"),
        ):
            out[column] = grouped(good_windows, self._abp[name][good], "median", minimum)
        period = self._abp["period"][good]
        with np.errstate(divide="ignore"):
            out["abp_pulse_bpm"] = grouped(good_windows, 60.0 / period, "median", minimum)
        low_map = np.where(self._abp["map"][good] < settings.map_threshold_mmhg, period, 0.0)
        out["map_below_65_s"] = grouped(good_windows, low_map, "sum")

        pleth_windows, pleth_interval = self._pleth["windows"], self._pleth["interval"]
        peaks = np.isnan(pleth_interval)
        out["pleth_n_pulses"] = count(pleth_windows[peaks])
        with np.errstate(divide="ignore"):
            out["pleth_pulse_bpm"] = grouped(
                pleth_windows[~peaks], 60.0 / pleth_interval[~peaks], "median", minimum
            )

        resp_windows, resp_interval = self._resp["windows"], self._resp["interval"]
        out["resp_n_breaths"] = count(resp_windows)
        with np.errstate(divide="ignore"):
            out["resp_rate_bpm"] = grouped(resp_windows, 60.0 / resp_interval, "median", 2)

        names = self._numerics["name"]
        for numeric in settings.monitor_numerics:
            pick = names == numeric
            out[f"monitor_{numeric}"] = grouped(
                self._numerics["windows"][pick], self._numerics["values"][pick], "mean"
            )

        for kind in SIGNAL_KINDS:
            out.update(self._quality_fractions(kind, windows))

        return pd.DataFrame({name: out[name] for name in columns})

    def _ecg_leads(self, windows: np.ndarray) -> pd.array:
        """Per window, the ECG lead that contributed the most samples."""
        keys = self._leads["windows"].astype(np.int64)
        leads = np.full(len(windows), None, dtype=object)
        if len(keys):
            names, code = np.unique(self._leads["lead"].astype(str), return_inverse=True)
            position = np.searchsorted(windows, keys)
            samples = np.zeros((len(windows), len(names)))
            np.add.at(samples, (position, code), self._leads["present"])
            seen = samples.sum(axis=1) > 0
            leads[seen] = names[np.argmax(samples[seen], axis=1)]
        return pd.array(leads, dtype="string")

    def _quality_fractions(self, kind: str, windows: np.ndarray) -> dict[str, np.ndarray]:
        store = self._quality[kind]
        keys = store["windows"].astype(np.int64)
        n = len(windows)
        result = {f"{kind}_{f}_fraction": np.full(n, np.nan) for f in QUALITY_MEASURES}
        result[f"{kind}_valid_fraction"] = np.zeros(n)
        if not len(keys):
            return result
        counts = store["counts"].reshape(-1, len(QUALITY_COUNTS)).astype(np.float64)
        expected = store["fs"] * self.settings.window_s
        position = np.searchsorted(windows, keys)
        sums = np.zeros((n, len(QUALITY_COUNTS)))
        np.add.at(sums, position, counts)
        full = np.zeros(n)
        # A window seen by several pieces of one channel rate: the window's
        # length in samples is the same for each, so take it once.
        np.maximum.at(full, position, expected)
        present = sums[:, 0] > 0
        for i, fraction in enumerate(QUALITY_MEASURES, start=1):
            values = np.where(present, sums[:, i] / np.where(full > 0, full, 1.0), np.nan)
            result[f"{kind}_{fraction}_fraction"] = values
        result[f"{kind}_valid_fraction"] = np.where(present, result[f"{kind}_valid_fraction"], 0.0)
        return result


def window_features(
    pieces: Iterable[Piece],
    settings: ClinicalSettings | None = None,
    start_time: np.datetime64 | None = None,
) -> pd.DataFrame:
    """The window table of one record from its pieces (see :class:`RecordWindows`).

    Args:
        pieces: The record's segments and numerics, each placed by its offset.
        settings: Feature settings.
        start_time: Absolute start of the record, or None.

    Returns:
        One row per window with data, columns as :func:`window_columns`.
    """
    windows = RecordWindows(settings, start_time)
    for piece in pieces:
        windows.add(piece)
    return windows.table()


def empty_window_table(settings: ClinicalSettings | None = None) -> pd.DataFrame:
    """A window table without rows, with every column and dtype."""
    columns = window_columns(settings or ClinicalSettings())
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


__all__ = [
    "Channel",
    "Piece",
    "RecordWindows",
    "empty_window_table",
    "window_columns",
    "window_features",
]

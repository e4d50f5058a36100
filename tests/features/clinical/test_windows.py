"""The window table: timeline placement, straddling windows, several rates, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.signal
import wfdb

from tests.support.paths import MITDB
from tests.support.signals import abp_train, pleth_train, resp_train
from waveshard.features.clinical import (
    Channel,
    ClinicalSettings,
    Piece,
    RecordWindows,
    empty_window_table,
    window_columns,
    window_features,
)

FS = 125.0


@pytest.fixture(scope="module")
def ecg_125() -> np.ndarray:
    """Ten minutes of MIT-BIH record 100's MLII at 125 Hz (real ECG, ~75 bpm)."""
    record = wfdb.rdrecord(str(MITDB / "100"), sampto=600 * 360)
    return scipy.signal.resample_poly(record.p_signal[:, 0], 25, 72)


def _abp(seconds: float) -> np.ndarray:
    trace, _ = abp_train(FS, np.full(int(seconds / 0.8) + 2, 0.8), sbp=118.0, dbp=62.0)
    return trace[: int(seconds * FS)]


def _dtypes_match(table: pd.DataFrame, settings: ClinicalSettings | None = None) -> None:
    expected = window_columns(settings or ClinicalSettings())
    assert list(table.columns) == list(expected)
    for name, dtype in expected.items():
        assert table[name].dtype == pd.Series(dtype=dtype).dtype, name


def test_empty_table_has_every_column_and_dtype() -> None:
    _dtypes_match(empty_window_table())
    _dtypes_match(window_features([]))


def test_windows_sit_on_the_record_timeline(ecg_125) -> None:
    start = np.datetime64("2896-10-10T00:31:25.894", "ms")
    piece = Piece(150.0, [Channel("II", ecg_125[: int(200 * FS)], FS, "mV")])
    table = window_features([piece], start_time=start)
    _dtypes_match(table)
    # 150 s .. 350 s after the start: windows 2 (120-180 s) to 5 (300-360 s).
    assert table["window_offset_s"].tolist() == [120.0, 180.0, 240.0, 300.0]
    assert table["window_start"].iloc[0] == pd.Timestamp("2896-10-10T00:33:25.894")
    assert str(table["window_start"].dtype) == "datetime64[ms]"
    assert table["ecg_valid_fraction"].tolist() == pytest.approx([0.5, 1.0, 1.0, 50 / 60])
    assert table["ecg_lead"].tolist() == ["II"] * 4
    full = table.iloc[1]
    assert full["hr_median_bpm"] == pytest.approx(75, abs=4)
    assert full["n_beats"] == pytest.approx(75, abs=5)


def test_a_window_straddling_two_segments_collects_both(ecg_125) -> None:
    seconds = 240
    ecg, abp = ecg_125[: int(seconds * FS)], _abp(seconds)
    split = int(90 * FS)  # inside window 1 (60-120 s)
    whole = window_features([Piece(0.0, [Channel("II", ecg, FS), Channel("ABP", abp, FS)])])
    parts = window_features(
        [
            Piece(0.0, [Channel("II", ecg[:split], FS), Channel("ABP", abp[:split], FS)]),
            Piece(90.0, [Channel("II", ecg[split:], FS), Channel("ABP", abp[split:], FS)]),
        ]
    )
    assert len(parts) == len(whole) == 4
    for column in ("ecg_valid_fraction", "abp_valid_fraction", "ecg_flat_fraction"):
        assert parts[column].tolist() == whole[column].tolist()
    straddling = parts.iloc[1]
    # Beats from both pieces are pooled; at most the beats at the cut differ.
    assert abs(int(straddling["n_beats"]) - int(whole.iloc[1]["n_beats"])) <= 2
    assert straddling["hr_median_bpm"] == pytest.approx(whole.iloc[1]["hr_median_bpm"], abs=1)
    assert straddling["sbp_mmhg"] == pytest.approx(118.0, abs=0.5)
    assert straddling["map_mmhg"] == pytest.approx(whole.iloc[1]["map_mmhg"], abs=0.5)


def test_several_rates_in_one_piece(ecg_125) -> None:
    """A 500 Hz ECG next to 125 Hz pressure, as MIMIC-II stores 4 samples per frame."""
    ecg_500 = scipy.signal.resample_poly(ecg_125[: int(180 * FS)], 4, 1)
    piece = Piece(0.0, [Channel("II", ecg_500, 500.0), Channel("ABP", _abp(180), FS)])
    table = window_features([piece])
    assert len(table) == 3
    assert table["ecg_valid_fraction"].tolist() == [1.0, 1.0, 1.0]
    assert table["abp_valid_fraction"].tolist() == [1.0, 1.0, 1.0]
    assert table["hr_median_bpm"].between(70, 80).all()
    assert table["abp_pulse_bpm"].tolist() == pytest.approx([75.0] * 3, abs=0.5)


def test_numerics_zero_is_missing_and_minutes_map_exactly() -> None:
    minutes = 1500
    hr = np.full(minutes, 70.0)
    hr[10] = 0.0
    sys = np.where(np.arange(minutes) % 2, 0.0, 120.0)
    fs = 0.0166666666667  # as MIMIC headers write 1/min
    piece = Piece(0.0, [Channel("HR", hr, fs, "bpm"), Channel("ABP Sys", sys, fs, "mmHg")], True)
    table = window_features([piece])
    assert len(table) == minutes
    assert np.isnan(table["monitor_hr"].iloc[10])
    assert (table["monitor_hr"].drop(index=10) == 70.0).all()
    assert table["monitor_abpsys"].iloc[::2].eq(120.0).all()
    assert table["monitor_abpsys"].iloc[1::2].isna().all()
    # Rows of numerics-only windows have no waveform: valid 0, the rest NaN.
    assert (table["ecg_valid_fraction"] == 0).all()
    assert table["ecg_flat_fraction"].isna().all()


def test_a_record_without_ecg_keeps_its_other_features() -> None:
    seconds = 180
    piece = Piece(
        0.0,
        [
            Channel("ABP", _abp(seconds), FS, "mmHg"),
            Channel("PLETH", pleth_train(FS, 75.0, seconds), FS),
            Channel("RESP", resp_train(FS, 15.0, seconds), FS),
        ],
    )
    table = window_features([piece])
    assert table["ecg_lead"].isna().all()
    assert (table["n_beats"] == 0).all()
    assert table["hr_median_bpm"].isna().all()
    assert table["sbp_mmhg"].tolist() == pytest.approx([118.0] * 3, abs=0.5)
    assert table["pleth_pulse_bpm"].tolist() == pytest.approx([75.0] * 3, abs=1.5)
    assert table["resp_rate_bpm"].tolist() == pytest.approx([15.0] * 3, abs=1.0)


def test_bad_signals_give_flags_and_nan_features(ecg_125) -> None:
    n = int(120 * FS)
    flat = np.full(n, 0.2)
    clipped = np.clip(ecg_125[:n] * 10, -1.0, 1.0)
    piece = Piece(
        0.0,
        [
            Channel("II", flat, FS, "mV", (-1.6, 1.6)),
            Channel("V", clipped, FS, "mV", (-1.0, 1.0)),
            Channel("ABP", np.full(n, np.nan), FS, "mmHg"),
            Channel("PLETH", np.full(n, np.nan), FS),
        ],
    )
    table = window_features([piece])
    assert table["ecg_lead"].tolist() == ["V", "V"]  # the flat lead is never preferred
    assert (table["ecg_clipped_fraction"] > 0.05).all()
    assert (table["abp_valid_fraction"] == 0).all()
    assert table["sbp_mmhg"].isna().all()
    assert table["pleth_pulse_bpm"].isna().all()


def test_window_length_is_a_setting(ecg_125) -> None:
    config = ClinicalSettings(window_s=30.0, hrv_window_s=120.0)
    table = window_features([Piece(0.0, [Channel("II", ecg_125, FS)])], config)
    assert len(table) == 20
    assert (table["window_s"] == 30.0).all()
    assert table["sdnn_ms"].iloc[:1].isna().all()  # under half of 120 s behind it
    assert table["sdnn_ms"].iloc[4:].notna().all()


def test_settings_from_parameters_reject_unknown_keys() -> None:
    config = ClinicalSettings.from_params(
        {"window_s": 30, "hr_range_bpm": [40, 150], "monitor_numerics": ["HR", "ABP Mean"]}
    )
    assert config.hr_range_bpm == (40.0, 150.0)
    assert config.monitor_numerics == ("hr", "abpmean")
    with pytest.raises(ValueError, match="unknown clinical settings"):
        ClinicalSettings.from_params({"windows": 60})


def _random_values(rng: np.random.Generator) -> np.ndarray:
    """One channel of bad or odd samples: random, constant, all NaN, steps, or a few values."""
    kind = rng.choice(["random", "constant", "nan", "steps", "short"])
    n = int(rng.integers(0, 4001))
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, 1e6, -1e6])
    if kind == "short":
        size = int(rng.integers(0, 21))
        return np.where(
            rng.random(size) < 0.5, rng.choice(specials, size), rng.normal(0, 1e3, size)
        )
    if kind == "constant":
        return np.full(n, rng.choice(specials) if rng.random() < 0.5 else rng.normal())
    if kind == "nan":
        return np.full(n, np.nan)
    x = rng.normal(0, 10.0 ** rng.uniform(-6, 4), n)
    if kind == "steps" and n:
        x = np.round(x / max(np.std(x), 1e-9))
    for _ in range(int(rng.integers(0, 6))):
        if n:
            a = int(rng.integers(0, n))
            x[a : a + int(rng.integers(1, 500))] = np.nan
    return x


@pytest.mark.parametrize("seed", range(60))
def test_any_input_gives_a_table_never_an_exception(seed: int) -> None:
    """A seeded property test: random bad pieces give typed tables and flags, never raise."""
    rng = np.random.default_rng(seed)
    names = ["II", "V", "ABP", "PLETH", "RESP", "CVP"]
    channels = []
    for _ in range(int(rng.integers(0, 6))):
        name, fs = str(rng.choice(names)), float(rng.choice([62.5, 125.0, 250.0]))
        channels.append(Channel(name, _random_values(rng), fs, "", (-1.0, 1.0)))
    windows = RecordWindows()
    windows.add(Piece(float(rng.uniform(0, 1e5)), channels))
    table = windows.table()
    _dtypes_match(table)
    fractions = [c for c in table.columns if c.endswith("_fraction")]
    values = table[fractions].to_numpy(dtype=np.float64)
    assert np.all(np.isnan(values) | ((values >= 0) & (values <= 1 + 1e-12)))
    numeric = table.select_dtypes("number").to_numpy(dtype=np.float64)
    assert not np.isinf(numeric).any()

"""Clinical features on the patient's timeline, from physical signal arrays.

WFDB-free and Kedro-free: everything here works on numpy arrays, so a data
scientist can call it directly. Signals are float arrays in physical units
with NaN for invalid samples, at any sampling rate.

- :func:`detect_r_peaks` (ECG beats), :func:`detect_pulse_onsets` (arterial
  pulse onsets, Zong et al. 2003), :func:`abp_beats` (per-beat pressures and
  quality), :func:`detect_pleth_peaks`, :func:`detect_breaths`;
- :func:`window_features` / :class:`RecordWindows`: one row per record window
  with heart rate, HRV, pressures, pulse and respiration rates, the monitor's
  numerics and per-signal quality fractions.
"""

from waveshard.features.clinical.abp import (
    AbpBeats,
    AbpQualityRules,
    abp_beats,
    detect_pulse_onsets,
)
from waveshard.features.clinical.ecg import detect_r_peaks
from waveshard.features.clinical.pieces import Channel, Piece
from waveshard.features.clinical.ppg import detect_pleth_peaks
from waveshard.features.clinical.resp import detect_breaths
from waveshard.features.clinical.settings import ClinicalSettings, normalize_numeric_name
from waveshard.features.clinical.windows import (
    RecordWindows,
    empty_window_table,
    window_columns,
    window_features,
)

__all__ = [
    "AbpBeats",
    "AbpQualityRules",
    "Channel",
    "ClinicalSettings",
    "Piece",
    "RecordWindows",
    "abp_beats",
    "detect_breaths",
    "detect_pleth_peaks",
    "detect_pulse_onsets",
    "detect_r_peaks",
    "empty_window_table",
    "normalize_numeric_name",
    "window_columns",
    "window_features",
]

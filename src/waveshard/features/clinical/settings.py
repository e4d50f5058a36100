"""Settings of the clinical features: window lengths, ranges, signal names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from waveshard.contract import DEFAULT_MONITOR_NUMERICS, QUALITY_SIGNALS
from waveshard.features.clinical.abp import AbpQualityRules

SIGNAL_KINDS = QUALITY_SIGNALS

#: Signal names per kind, matched ignoring case and spaces. For the ECG the
#: order is the preference when two leads are equally usable (lead II first,
#: as monitors do for rate).
DEFAULT_SIGNAL_KINDS: dict[str, tuple[str, ...]] = {
    "ecg": (
        "II", "I", "III", "V", "AVR", "AVL", "AVF", "MCL1", "MCL",
        "V1", "V2", "V3", "V4", "V5", "V6", "ECG",
    ),
    # Arterial lines only: ABP (radial/brachial), ART, AOBP (aortic),
    # FAP (femoral), UAP (umbilical, neonates). Venous and pulmonary
    # pressures (CVP, PAP, RAP) are not arterial pulses.
    "abp": ("ABP", "ART", "AOBP", "FAP", "UAP"),
    "pleth": ("PLETH",),
    "resp": ("RESP",),
}  # fmt: skip

#: Plausible physical ranges; samples outside count as out of range. PLETH and
#: RESP are in arbitrary units, so they have none.
DEFAULT_RANGES: dict[str, tuple[float, float] | None] = {
    "ecg": (-5.0, 5.0),  # mV: no monitored lead shows more than a few mV
    "abp": (20.0, 300.0),  # mmHg: Sun et al. (2006)'s physiological pressure limits
    "pleth": None,
    "resp": None,
}

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize_numeric_name(name: str) -> str:
    """``ABP Sys`` → ``abpsys``, ``%SpO2`` → ``spo2``: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", name.lower())


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).upper()


@dataclass(frozen=True)
class ClinicalSettings:
    """Everything that shapes the window features.

    Attributes:
        window_s: Window length in seconds (windows start at the record's start).
        hrv_window_s: Length of the trailing window of the HRV features.
        hr_range_bpm: Heart rates outside this range make an RR interval
            invalid (the PhysioNet Cardiovascular Signal Toolbox's 30-160 bpm);
            also applied to ABP and PLETH pulse intervals.
        resp_band_hz: Band-pass of the respiration signal; breath intervals
            must lie within its reciprocal range.
        min_intervals: Fewest valid intervals (RR, pulse, breath) or accepted
            ABP beats a window needs for its rate and pressure features.
        hrv_min_coverage: Fraction of the HRV window that NN intervals must cover.
        flat_min_s: Shortest run of one repeated value that counts as a flat line.
        map_threshold_mmhg: MAP below which beats count towards ``map_below_65_s``.
        ranges: Physiological range per signal kind (None: no range).
        signal_kinds: Signal names that identify each kind (after the project's
            ``signal_kinds`` normalization, when the pipeline runs).
        monitor_numerics: Normalized names of the monitor numerics to report.
        abp_rules: ABP beat quality criteria.
    """

    window_s: float = 60.0
    hrv_window_s: float = 300.0
    hr_range_bpm: tuple[float, float] = (30.0, 160.0)
    resp_band_hz: tuple[float, float] = (0.1, 1.0)
    min_intervals: int = 3
    hrv_min_coverage: float = 0.5
    flat_min_s: float = 1.0
    map_threshold_mmhg: float = 65.0
    ranges: Mapping[str, tuple[float, float] | None] = field(
        default_factory=lambda: dict(DEFAULT_RANGES)
    )
    signal_kinds: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_SIGNAL_KINDS)
    )
    monitor_numerics: tuple[str, ...] = DEFAULT_MONITOR_NUMERICS
    abp_rules: AbpQualityRules = field(default_factory=AbpQualityRules)

    def __post_init__(self) -> None:
        if not self.window_s > 0:
            raise ValueError(f"window_s must be positive, got {self.window_s!r}")
        if not self.hrv_window_s > 0:
            raise ValueError(f"hrv_window_s must be positive, got {self.hrv_window_s!r}")
        low, high = self.hr_range_bpm
        if not 0 < low < high:
            raise ValueError(
                f"hr_range_bpm must be (low, high) with 0 < low < high, got {low, high}"
            )

    def kind_of(self, name: str) -> str | None:
        """The signal kind a channel name belongs to, or None."""
        key = _key(name)
        for kind in SIGNAL_KINDS:
            if key in {_key(n) for n in self.signal_kinds.get(kind, ())}:
                return kind
        return None

    def preference(self, kind: str, name: str) -> int:
        """Position of a name in its kind's list (lower is preferred)."""
        keys = [_key(n) for n in self.signal_kinds.get(kind, ())]
        key = _key(name)
        return keys.index(key) if key in keys else len(keys)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ClinicalSettings:
        """Settings from a parameters mapping (e.g. ``parameters_clinical.yml``).

        Unknown keys are an error, so a misspelt setting does not pass silently.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"unknown clinical settings {sorted(unknown)}; known: {sorted(known)}")
        values: dict[str, Any] = dict(params)
        for name in ("hr_range_bpm", "resp_band_hz"):
            if name in values:
                values[name] = tuple(float(v) for v in values[name])
        if "ranges" in values:
            values["ranges"] = {
                **DEFAULT_RANGES,
                **{k: (tuple(map(float, v)) if v is not None else None)
                   for k, v in values["ranges"].items()},
            }  # fmt: skip
        if "signal_kinds" in values:
            values["signal_kinds"] = {
                **DEFAULT_SIGNAL_KINDS,
                **{k: tuple(str(n) for n in v) for k, v in values["signal_kinds"].items()},
            }
        if "monitor_numerics" in values:
            values["monitor_numerics"] = tuple(
                normalize_numeric_name(str(n)) for n in values["monitor_numerics"]
            )
        if "abp_rules" in values:
            values["abp_rules"] = replace(AbpQualityRules(), **values["abp_rules"])
        return cls(**values)

"""Signal-name normalization follows the mapping kept in conf/."""

from __future__ import annotations

import pytest
import yaml

from tests.support.paths import PROJECT_ROOT
from waveshard.features.names import SignalNameMap


@pytest.fixture(scope="module")
def conf_map() -> SignalNameMap:
    params = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters.yml").read_text())
    return SignalNameMap(params["signal_names"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ART", "ABP"),
        ("art", "ABP"),
        ("ABP", "ABP"),
        (" abp ", "ABP"),
        ("Art  Bp", "ABP"),
        ("Pleth", "PLETH"),
        ("spo2", "SpO2"),
        ("ABP  Sys", "ABPSys"),
        ("II", "II"),
        ("MCL", "MCL1"),
        ("Unknown  Sig ", "Unknown Sig"),
    ],
)
def test_conf_mapping(conf_map: SignalNameMap, raw: str, expected: str) -> None:
    assert conf_map(raw) == expected


def test_conflicting_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match="listed under both"):
        SignalNameMap({"ABP": ["ART"], "AOBP": ["art"]})

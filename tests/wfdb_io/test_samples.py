"""Physical samples: equal to wfdb's reader, invalid samples NaN, each signal at its rate."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb

from tests.support.multirate import write_multirate_record
from tests.support.paths import MITDB
from waveshard.wfdb_io.discovery import discover_segments
from waveshard.wfdb_io.samples import adc_range, digital_limits, read_physical
from waveshard.wfdb_io.storage import GroupFolder


def _tasks(root: Path, group: str) -> dict:
    folder = GroupFolder.scan(group, str(root / group))
    return folder, {t.segment: t for t in discover_segments(folder).tasks}


@pytest.mark.parametrize(
    "segment",
    ["3975656_0013", "3975656_0005", "s00001-2896-10-10-00-31n"],
    ids=["format-80-fractional-gain", "format-80-long", "format-16-numerics"],
)
def test_fast_path_equals_wfdb_physical_values(physionet_tree: Path, segment) -> None:
    folder, tasks = _tasks(physionet_tree, "39")
    task = tasks[segment]
    signals = read_physical(folder, task)
    reference = wfdb.rdrecord(
        str(physionet_tree / "39" / "s00001" / task.header_path.split("/")[-1][:-4])
    )
    assert [s.name for s in signals] == reference.sig_name
    for i, signal in enumerate(signals):
        np.testing.assert_array_equal(signal.values, reference.p_signal[:, i])
        assert signal.fs == pytest.approx(reference.fs)
        assert signal.units == reference.units[i]


def test_invalid_samples_are_nan(physionet_tree: Path) -> None:
    folder, tasks = _tasks(physionet_tree, "32")
    signals = read_physical(folder, tasks["3234460_0001"])
    raw = np.fromfile(physionet_tree / "32" / "s25047" / "3234460_0001.dat", dtype=np.uint8)
    invalid = raw.reshape(-1, 2) == 0  # stored 0 = digital -128
    assert invalid.any()
    for ch, signal in enumerate(signals):
        assert np.array_equal(np.isnan(signal.values), invalid[:, ch])


def test_several_samples_per_frame_keep_each_rate(tmp_path: Path) -> None:
    write_multirate_record(tmp_path / "40" / "mr001")
    folder, tasks = _tasks(tmp_path, "40")
    ecg, abp = read_physical(folder, tasks["mr001"])
    assert (ecg.fs, abp.fs) == (500.0, 125.0)
    assert len(ecg.values) == 4 * len(abp.values)
    reference = wfdb.rdrecord(str(tmp_path / "40" / "mr001" / "mr001"), smooth_frames=False)
    np.testing.assert_allclose(ecg.values, reference.e_p_signal[0])
    np.testing.assert_allclose(abp.values, reference.e_p_signal[1])


def test_other_formats_go_through_wfdb(tmp_path: Path) -> None:
    """MIT-BIH's format 212, read through wfdb, gives wfdb's physical values."""
    (tmp_path / "40" / "100").mkdir(parents=True)
    for suffix in (".hea", ".dat"):
        shutil.copyfile(MITDB / f"100{suffix}", tmp_path / "40" / "100" / f"100{suffix}")
    folder, tasks = _tasks(tmp_path, "40")
    mlii, v5 = read_physical(folder, tasks["100"])
    reference = wfdb.rdrecord(str(MITDB / "100"))
    np.testing.assert_array_equal(mlii.values, reference.p_signal[:, 0])
    np.testing.assert_array_equal(v5.values, reference.p_signal[:, 1])
    assert mlii.adc_range == pytest.approx(((-2047 - 1024) / 200, (2047 - 1024) / 200))


def test_a_truncated_file_is_an_eof_error(physionet_tree: Path, tmp_path: Path) -> None:
    shutil.copytree(physionet_tree / "30", tmp_path / "30")
    dat = tmp_path / "30" / "3000003" / "3000003_0003.dat"
    folder, tasks = _tasks(tmp_path, "30")
    dat.write_bytes(dat.read_bytes()[:100])  # shorter than discovery saw
    with pytest.raises(EOFError, match="expected 2056 bytes"):
        read_physical(folder, tasks["3000003_0003"])


def test_adc_limits_exclude_the_invalid_value() -> None:
    assert digital_limits("80") == (-127, 127)
    assert digital_limits("16") == (-32767, 32767)
    assert digital_limits("8") is None


def test_adc_range_of_a_fractional_gain(physionet_tree: Path) -> None:
    _folder, tasks = _tasks(physionet_tree, "39")
    abp = tasks["3975656_0013"].header.signals[2]  # 0.833333(-100)/mmHg, format 80
    low, high = adc_range(abp)
    assert low == pytest.approx((-127 + 100) / 0.833333)
    assert high == pytest.approx((127 + 100) / 0.833333)

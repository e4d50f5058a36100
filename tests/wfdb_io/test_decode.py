"""Decoding formats the fast path does not take (wfdb's reader), and checksums."""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from tests.support.exactness import (
    check_records_against_wfdb,
    check_segments_against_wfdb,
    run_group,
)
from tests.support.paths import MITDB, SAMPLE_RAW


def _dirs(root: Path, group: str) -> dict[str, str]:
    return {
        p.stem: posixpath.dirname(p.relative_to(root / group).as_posix())
        for p in (root / group).rglob("*.hea")
    }


def test_format_212_record_equals_wfdb(tmp_path: Path) -> None:
    """MIT-BIH 100 (format 212, two 12-bit samples in three bytes) through wfdb's reader."""
    record_dir = tmp_path / "raw" / "mitdb" / "100"
    record_dir.mkdir(parents=True)
    for name in ("100.hea", "100.dat"):
        shutil.copyfile(MITDB / name, record_dir / name)
    root = tmp_path / "raw"
    segments, records, errors, summary = run_group(root, "mitdb", 1)
    assert errors.empty and summary["segments_ok"] == 1
    assert segments["fmt"].tolist() == [212, 212]
    assert segments["n_samples"].tolist() == [650000, 650000]
    assert check_segments_against_wfdb(root, "mitdb", segments, _dirs(root, "mitdb")) == 2
    check_records_against_wfdb(root, "mitdb", segments, records, _dirs(root, "mitdb"))
    assert segments["checksum_ok"].tolist() == [True, True]


def test_several_samples_per_frame_equal_wfdb(tmp_path: Path) -> None:
    """A 4x-oversampled ECG beside a once-a-frame signal, as MIMIC-I/II store 500 Hz ECG.

    The samples are MIT-BIH 100's own (format 16 here, written by wfdb's writer).
    """
    real = wfdb.rdrecord(str(MITDB / "100"), physical=False, sampto=4 * 9000)
    ecg = real.d_signal[:, 0].astype(np.int64)  # 36,000 samples: 4 per frame
    other = real.d_signal[: 9000 * 4 : 4, 1].astype(np.int64)  # 9,000: 1 per frame
    record_dir = tmp_path / "raw" / "mf" / "mf01"
    record_dir.mkdir(parents=True)
    wfdb.wrsamp(
        "mf01",
        fs=90,
        units=["mV", "mV"],
        sig_name=["ECG", "V5"],
        e_d_signal=[ecg, other],
        samps_per_frame=[4, 1],
        fmt=["16", "16"],
        adc_gain=[200.0, 200.0],
        baseline=[1024, 1024],
        write_dir=str(record_dir),
    )
    root = tmp_path / "raw"
    segments, records, errors, _summary = run_group(root, "mf", 1)
    assert errors.empty
    assert segments["n_samples"].tolist() == [36000, 9000]
    assert segments["fs"].tolist() == [360.0, 90.0]
    assert check_segments_against_wfdb(root, "mf", segments, _dirs(root, "mf")) == 2
    check_records_against_wfdb(root, "mf", segments, records, _dirs(root, "mf"))


def test_a_wrong_header_checksum_is_reported(tmp_path: Path) -> None:
    """checksum_ok is False for the channel whose header checksum disagrees, True otherwise."""
    source = SAMPLE_RAW / "30"
    shutil.copytree(source, tmp_path / "30")
    header = tmp_path / "30" / "3000001" / "3000001_0002.hea"  # 4 signals, 3898 samples
    lines = header.read_text().splitlines()
    fields = lines[1].split()
    fields[6] = str(int(fields[6]) ^ 1)  # the first signal's checksum, off by one bit
    lines[1] = " ".join(fields)
    header.write_text("\n".join(lines) + "\n")
    segments, _records, errors, _summary = run_group(tmp_path, "30", 1)
    assert errors.empty
    mine = segments[segments["segment"] == header.stem].set_index("channel")["checksum_ok"]
    assert mine.tolist() == [False, True, True, True]
    others = segments[segments["segment"] != header.stem]["checksum_ok"]
    assert others.dropna().all() and pd.api.types.is_bool_dtype(segments["checksum_ok"])

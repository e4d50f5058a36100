"""A MIMIC-II-style record with two rates in one file (test support).

MIMIC-I/II store a 500 Hz ECG as 4 samples per frame next to 125 Hz
pressure; wfdb's writer produces the same layout from expanded signals.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import scipy.signal
import wfdb

from tests.support.paths import MITDB
from tests.support.signals import abp_train


def write_multirate_record(folder: Path, name: str = "mr001", seconds: int = 180) -> Path:
    """Write ``name`` (ECG at 4 samples per frame, ABP at 1; 125 frames/s, format 16)."""
    folder.mkdir(parents=True, exist_ok=True)
    record = wfdb.rdrecord(str(MITDB / "100"), channels=[0], sampto=seconds * 360)
    ecg = scipy.signal.resample_poly(record.p_signal[:, 0], 25, 18)[: seconds * 500]
    abp, _feet = abp_train(125.0, np.full(int(seconds / 0.8) + 2, 0.8), sbp=121.0, dbp=64.0)
    abp = abp[: seconds * 125]
    wfdb.wrsamp(
        name,
        fs=125,
        units=["mV", "mmHg"],
        sig_name=["II", "ABP"],
        e_p_signal=[ecg, abp],
        samps_per_frame=[4, 1],
        fmt=["16", "16"],
        adc_gain=[200.0, 10.0],
        baseline=[0, 0],
        base_time=dt.time(8, 0, 0),
        base_date=dt.date(2150, 1, 1),
        write_dir=str(folder),
    )
    return folder / f"{name}.hea"

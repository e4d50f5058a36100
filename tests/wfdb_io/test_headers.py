"""The fast header parser agrees with wfdb.rdheader field by field."""

from __future__ import annotations

from pathlib import Path

import pytest
import wfdb

from tests.support.paths import PHYSIONET
from waveshard.wfdb_io.headers import HeaderError, parse_header

SIGNAL_FIELDS = {
    "file_name": "file_name",
    "fmt": "fmt",
    "samps_per_frame": "samps_per_frame",
    "byte_offset": "byte_offset",
    "adc_gain": "adc_gain",
    "baseline": "baseline",
    "units": "units",
    "adc_res": "adc_res",
    "adc_zero": "adc_zero",
    "init_value": "init_value",
    "checksum": "checksum",
    "block_size": "block_size",
    "name": "sig_name",
}


def _real_headers() -> list[Path]:
    return sorted(PHYSIONET.rglob("*.hea"))


@pytest.mark.parametrize("path", _real_headers(), ids=lambda p: p.name)
def test_real_headers_match_wfdb(path: Path) -> None:
    ours = parse_header(path.read_text())
    ref = wfdb.rdheader(str(path.with_suffix("")))
    assert ours.record_name == ref.record_name
    assert ours.n_sig == ref.n_sig
    assert ours.fs == pytest.approx(ref.fs, rel=0, abs=0)
    assert ours.counter_freq == ref.counter_freq
    assert ours.sig_len == ref.sig_len
    if isinstance(ref, wfdb.MultiRecord):
        assert ours.is_multi_segment
        assert [s.name for s in ours.segments] == ref.seg_name
        assert [s.length for s in ours.segments] == ref.seg_len
        return
    assert not ours.is_multi_segment
    for ours_field, ref_field in SIGNAL_FIELDS.items():
        expected = getattr(ref, ref_field)
        got = [getattr(s, ours_field) for s in ours.signals]
        if ours_field == "byte_offset":  # wfdb keeps None where the header gives none
            expected = [e or 0 for e in expected]
        assert got == expected, ours_field


def test_layout_and_numerics_are_recognized() -> None:
    layout = parse_header((PHYSIONET / "s00001" / "3975656_layout.hea").read_text())
    assert layout.is_layout and layout.dat_files == ()
    numerics = parse_header((PHYSIONET / "s00001" / "s00001-2896-10-10-00-31n.hea").read_text())
    assert numerics.counter_freq == 125.0
    assert numerics.fs == pytest.approx(1 / 60, rel=1e-9)
    assert numerics.dat_files == ("3975656n.dat",)


def test_gain_zero_means_200_and_missing_baseline_is_adc_zero() -> None:
    header = parse_header("r 1 125 10\nr.dat 16 0/mV 12 7 0 0 0 II\n")
    assert header.signals[0].adc_gain == 200.0
    assert header.signals[0].baseline == 7


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "rec x 125\n",
        "rec 2 125 10\nrec.dat 80 1/mV 8 0 0 0 0 II\n",
        "rec/3 0 125 10\nseg_1 5\n",
    ],
    ids=["empty", "comment-only", "bad-record-line", "too-few-signals", "too-few-segments"],
)
def test_malformed_headers_raise_header_error(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_header(text)


def test_invalid_sample_values_agree_with_wfdb() -> None:
    from wfdb.io._signal import INVALID_SAMPLE_VALUE

    from waveshard.wfdb_io.headers import INVALID_SAMPLE

    assert INVALID_SAMPLE == INVALID_SAMPLE_VALUE

"""The fast header parser agrees with wfdb.rdheader field by field."""

from __future__ import annotations

import collections
import math
import random
import time
import warnings
from pathlib import Path

import pytest
import wfdb

from tests.support.paths import PHYSIONET
from waveshard.wfdb_io.headers import HeaderError, decode_header, parse_header

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
        "rec/2 0 125 10\nseg_1 5\nseg_2 x\n",
    ],
    ids=["empty", "comment-only", "bad-record-line", "too-few-signals", "bad-segment-line"],
)
def test_malformed_headers_raise_header_error(text: str) -> None:
    with pytest.raises(HeaderError):
        parse_header(text)


def test_a_master_is_read_whole_whatever_its_segment_count_says() -> None:
    header = parse_header("rec/3 0 125 10\nseg_1 5\n~ 3\nseg_2 2\nseg_3 1\n")
    assert [s.name for s in header.segments] == ["seg_1", "~", "seg_2", "seg_3"]
    assert [t for t, _ in header.notes] == ["SegmentCountMismatch"]


def test_invalid_sample_values_agree_with_wfdb() -> None:
    from wfdb.io._signal import INVALID_SAMPLE_VALUE

    from waveshard.wfdb_io.headers import INVALID_SAMPLE

    assert INVALID_SAMPLE == INVALID_SAMPLE_VALUE


# ------------------------------------------------------------------ wfdb's reading
def _decoded(data: bytes):
    text, notes = decode_header(data)
    header = parse_header(text)
    return header, [*notes, *header.notes]


def test_byte_order_mark_and_other_bytes_are_dropped_as_wfdb_drops_them() -> None:
    header, notes = _decoded(b"\xef\xbb\xbfr 1 125 10\r\nr.dat 80 200/mV 8 0 0 0 0 II\xe9\r\n")
    assert header.record_name == "r" and header.signals[0].name == "II"
    assert [t for t, _ in notes] == ["HeaderNotAscii"]
    assert "byte-order mark" in notes[0][1]


@pytest.mark.parametrize("field", ["", "-5"], ids=["absent", "negative"])
def test_a_signal_length_wfdb_cannot_read_is_none(field: str) -> None:
    header, notes = _decoded(f"r 1 125 {field}\nr.dat 80 200/mV 8 0 0 0 0 II\n".encode())
    assert header.sig_len is None
    assert [t for t, _ in notes] == (["HeaderFieldIgnored"] if field else [])


def test_fields_wfdb_rejects_but_samples_do_not_need_are_notes() -> None:
    header, notes = _decoded(b"r 1 125 10 99:99:99 31/02/2000\nr.dat 80 200/mV 8 0 0 0 0 II\n")
    assert header.sig_len == 10
    assert [t for t, _ in notes] == ["HeaderFieldInvalid"]
    header, notes = _decoded(("r 1 " + "9" * 400 + " 10\nr.dat 80 200/mV 8 0 0 0 0 II\n").encode())
    assert header.fs == float("inf") and [t for t, _ in notes] == ["InvalidSamplingFrequency"]


def test_odd_values_wfdb_reads_are_kept_with_a_note() -> None:
    header, notes = _decoded(
        b"r 2 125 10\nr.dat 80x0 1e400(99999999999999999999)/mV 8 0 0 0 0 A\n"
        b"r.dat 80 200/mV 8 0 0 0 0 B\n"
    )
    signal = header.signals[0]
    assert signal.samps_per_frame == 0 and signal.baseline == 99999999999999999999
    assert sorted(t for t, _ in notes) == [
        "BaselineOutOfRange",
        "InvalidGain",
        "NoSamplesPerFrame",
    ]


def test_frequencies_near_a_whole_number_are_read_as_wfdb_reads_them() -> None:
    assert parse_header("r 1 125.000000001 10\nr.dat 80 1/mV 8 0 0 0 0 A\n").fs == 125.0
    assert parse_header("r 1 0.0000000001 10\nr.dat 80 1/mV 8 0 0 0 0 A\n").fs == 0.0
    assert parse_header("r 1 0.0166666666667 10\nr.dat 80 1/mV 8 0 0 0 0 A\n").fs == pytest.approx(
        1 / 60, rel=1e-9
    )


@pytest.mark.parametrize(
    "text",
    [
        "r 2 125 10\n" + "r.dat 80 1/mV 8 0 0 0 0 A\n" * 3,
        "r 1 125 10\n" + "j" * 5000 + "\n",
        "1" * 5000 + "\n",
    ],
    ids=["more-signal-lines-than-n_sig", "a-megabyte-word", "a-long-record-line"],
)
def test_headers_wfdb_refuses_or_never_finishes_are_header_errors(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(HeaderError):
        parse_header(text)
    assert time.perf_counter() - started < 1  # wfdb's patterns would take seconds


_RECORD_FIELDS = {
    "name": ["r", "rec_01", "3000003_0003", "", "bad!", "s-1"],
    "n_seg": ["", "", "", "/2"],
    "n_sig": ["0", "1", "1", "2", "3", "", "x", "99999999999"],
    "fs": ["", "125", "0", "-125", "1e400", "9" * 400, "0.0166666666667", "62.5", "125.000000001"],
    "counter": ["", "", "/125", "/-3", "/125(0)"],
    "sig_len": ["", "0", "-5", "100", "9" * 30, "1.5"],
    "time": ["", "10:00:00", "99:99:99", "12:30.5", "7"],
    "date": ["", "01/02/2000", "31/02/2000", "1/2/99"],
}
_SIGNAL_FIELDS = {
    "file": ["r.dat", "r.dat", "~", "../r.dat", "/abs/r.dat", "r-2.dat", ""],
    "fmt": ["80", "16", "212", "999", "0", "", "80x2", "80:1", "80+10", "80x0", "16x3:2+7"],
    "gain": [
        "",
        "200",
        "0",
        "-1.5",
        "1e400",
        "1e-400",
        "e",
        "29(-5)",
        "1.25(-100)/mmHg",
        "100/mV",
        "(5)",
        "0(99999999999999999999)",
        "7(" + "9" * 400 + ")",
    ],
    "rest": [
        "",
        "8",
        "8 0",
        "8 0 -5",
        "8 0 -5 -3441",
        "8 0 -5 -3441 0",
        "8 0 -5 -3441 0 II",
        "12 2048 0 0 0 ECG lead II",
        "x y z",
        "8 0 0 0 0 \tTAB",
    ],
}


def _generated_header(rng: random.Random) -> bytes:
    """A header text from WFDB's grammar, with odd and broken values mixed in."""

    def pick(fields: dict[str, list[str]], key: str) -> str:
        return rng.choice(fields[key])

    record = [
        pick(_RECORD_FIELDS, "name") + pick(_RECORD_FIELDS, "n_seg"),
        pick(_RECORD_FIELDS, "n_sig"),
        pick(_RECORD_FIELDS, "fs") + pick(_RECORD_FIELDS, "counter"),
        pick(_RECORD_FIELDS, "sig_len"),
        pick(_RECORD_FIELDS, "time"),
        pick(_RECORD_FIELDS, "date"),
    ]
    record = record[: rng.randrange(2, 7)]
    lines = [rng.choice([" ", "  ", "\t"]).join(record)]
    n_lines = (
        rng.choice([0, 1, 2, 3])
        if rng.random() < 0.3
        else (int(record[1]) if record[1].isdigit() and int(record[1]) < 5 else 1)
    )
    for _ in range(n_lines):
        if "/" in record[0]:
            lines.append(f"seg_{rng.randrange(9)} {rng.choice(['0', '10', '-1', 'x', ''])}")
            continue
        fields = [pick(_SIGNAL_FIELDS, k) for k in ("file", "fmt", "gain", "rest")]
        lines.append(" ".join(f for f in fields if f))
    if rng.random() < 0.3:
        lines.insert(rng.randrange(len(lines) + 1), "# a comment " + rng.choice(["", "x" * 50]))
    text = ("\r\n" if rng.random() < 0.2 else "\n").join(lines) + "\n"
    data = text.encode()
    if rng.random() < 0.15:
        data = b"\xef\xbb\xbf" + data
    if rng.random() < 0.15 and data:
        flip = rng.randrange(len(data))
        data = data[:flip] + bytes([rng.randrange(256)]) + data[flip + 1 :]
    return data


def _same(ours, theirs) -> bool:
    if theirs is None:
        return ours in (None, 0, "")
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(ours, float) and math.isnan(ours)
    return ours == theirs


#: Our field name → wfdb's, for the signal fields both parsers give.
_COMPARED = {**SIGNAL_FIELDS, "skew": "skew"}


def test_generated_headers_read_as_wfdb_reads_them(tmp_path: Path) -> None:
    """Seeded property test: on 600 generated headers, both parsers agree or differ as documented.

    * ours raises nothing but ``ValueError`` (``HeaderError``);
    * where both read a header, every field agrees;
    * where wfdb reads a header ours refuses, the signal lines do not match
      ``n_sig`` (``wfdb.rdrecord`` then fails too);
    * where ours reads a header wfdb refuses, a note says wfdb refuses it (or the
      header declares no signals, so nothing is extracted from it).
    """
    rng = random.Random(20261128)
    outcomes = collections.Counter()
    for example in range(600):
        data = _generated_header(rng)
        path = tmp_path / f"h{example}.hea"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = wfdb.rdheader(str(path)[: -len(".hea")])
        except Exception:
            theirs = None
        try:
            ours, notes = _decoded(data)
        except ValueError:
            ours, notes = None, []
        label = f"example {example}: {data[:200]!r}"
        if ours is None and theirs is None:
            outcomes["both refuse"] += 1
        elif ours is None:
            outcomes["wfdb reads, rdrecord would fail"] += 1
            lines = [ln for ln in parse_content(data) if ln][1:]
            assert isinstance(theirs, wfdb.Record) and len(lines) != theirs.n_sig, label
        elif theirs is None:
            outcomes["ours reads, with a note"] += 1
            refused = {"HeaderFieldInvalid", "InvalidSamplingFrequency", "SegmentCountMismatch"}
            # ... or a header of no signals, of which nothing is extracted (NoSignals).
            nothing = not ours.is_multi_segment and not ours.signals
            assert {t for t, _ in notes} & refused or nothing, label
        else:
            outcomes["both read"] += 1
            assert ours.record_name == theirs.record_name, label
            assert ours.n_sig == theirs.n_sig, label
            assert ours.fs == theirs.fs, label
            assert ours.counter_freq == theirs.counter_freq, label
            assert ours.sig_len == theirs.sig_len, label
            if isinstance(theirs, wfdb.MultiRecord):
                assert [(s.name, s.length) for s in ours.segments] == list(
                    zip(theirs.seg_name, theirs.seg_len, strict=True)
                ), label
                continue
            for channel, signal in enumerate(ours.signals):
                for mine, name in _COMPARED.items():
                    assert _same(getattr(signal, mine), getattr(theirs, name)[channel]), (
                        f"{label}: {mine}"
                    )
    # The generator reaches every outcome, often.
    assert min(outcomes.values()) >= 20 and len(outcomes) == 4, outcomes


def parse_content(data: bytes) -> list[str]:
    from wfdb.io.header import parse_header_content

    return parse_header_content(data.decode("ascii", errors="ignore"))[0]

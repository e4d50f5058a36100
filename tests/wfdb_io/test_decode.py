"""Decoding: the numpy fast path, formats it does not take (wfdb's reader), checksums."""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import wfdb

from tests.support.exactness import (
    check_records_against_wfdb,
    check_segments_against_wfdb,
    run_group,
)
from tests.support.paths import MITDB, PHYSIONET, SAMPLE_RAW
from waveshard.wfdb_io import decode
from waveshard.wfdb_io.decode import DigitalCounts, count_digital_values
from waveshard.wfdb_io.discovery import SegmentTask, discover_segments
from waveshard.wfdb_io.headers import INVALID_SAMPLE
from waveshard.wfdb_io.storage import GroupFolder


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


def _wfdb_counts(header_path: Path) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Per channel: wfdb's valid digital values, their counts, and all samples read."""
    record = wfdb.rdrecord(str(header_path.with_suffix("")), physical=False, smooth_frames=False)
    result = []
    for fmt, samples in zip(record.fmt, record.e_d_signal, strict=True):
        values, counts = np.unique(samples.astype(np.int64), return_counts=True)
        keep = values != INVALID_SAMPLE.get(fmt)
        result.append((values[keep], counts[keep], len(samples)))
    return result


def _tasks(folder: GroupFolder) -> dict[str, SegmentTask]:
    return {task.segment: task for task in discover_segments(folder).tasks}


def _assert_counts_equal(ours: list[DigitalCounts], reference) -> None:
    assert len(ours) == len(reference)
    for channel, (values, counts, n_samples) in zip(ours, reference, strict=True):
        assert channel.values.dtype == np.int64 and channel.counts.dtype == np.int64
        np.testing.assert_array_equal(channel.values, values)
        np.testing.assert_array_equal(channel.counts, counts)
        assert channel.n_samples == n_samples


#: Real segments of the formats decoded with numpy: MIMIC-III waveforms (format 80, two
#: and one channels) and numerics (format 16, seven channels at 1/60 Hz).
FAST_SEGMENTS = [
    ("30", "3000003/3000003_0003.hea"),
    ("32", "p000878/3269321_0001.hea"),
    ("32", "s25047/s25047-2704-05-04-10-44n.hea"),
]


def test_formats_80_and_16_are_decoded_without_wfdb_and_equal_it(
    physionet_tree: Path, monkeypatch
) -> None:
    references = {rel: _wfdb_counts(physionet_tree / group / rel) for group, rel in FAST_SEGMENTS}

    def no_wfdb(*args, **kwargs):
        raise AssertionError("formats 80 and 16 are decoded without wfdb")

    monkeypatch.setattr(decode.wfdb, "rdrecord", no_wfdb)
    for group, rel in FAST_SEGMENTS:
        folder = GroupFolder.scan(group, str(physionet_tree / group))
        task = _tasks(folder)[Path(rel).stem]
        assert {s.fmt for s in task.header.signals} <= {"80", "16"}
        _assert_counts_equal(count_digital_values(folder, task), references[rel])


def test_other_formats_go_through_wfdb_once(tmp_path: Path, monkeypatch) -> None:
    """Format 212 (MIT-BIH 100) is read by wfdb, once per segment, as wfdb reads it."""
    group_dir = tmp_path / "mitdb"
    group_dir.mkdir()
    for name in ("100.hea", "100.dat"):
        shutil.copyfile(MITDB / name, group_dir / name)
    reference = _wfdb_counts(group_dir / "100.hea")
    calls = []
    read = decode.wfdb.rdrecord
    monkeypatch.setattr(decode.wfdb, "rdrecord", lambda *a, **k: calls.append(a) or read(*a, **k))
    folder = GroupFolder.scan("mitdb", str(group_dir))
    _assert_counts_equal(count_digital_values(folder, _tasks(folder)["100"]), reference)
    assert len(calls) == 1


def test_segments_off_local_disk_decode_as_on_it(tmp_path: Path, physionet_tree: Path) -> None:
    """A folder wfdb cannot open (here fsspec's in-memory store) is staged segment by segment.

    Format 212 goes through wfdb from a temporary copy; format 80 is read in place.
    """
    fs = fsspec.filesystem("memory")
    sources = {
        "mitdb/100.hea": MITDB / "100.hea",
        "mitdb/100.dat": MITDB / "100.dat",
        "mitdb/3000003_0003.hea": physionet_tree / "30" / "3000003" / "3000003_0003.hea",
        "mitdb/3000003_0003.dat": physionet_tree / "30" / "3000003" / "3000003_0003.dat",
    }
    try:
        for rel, source in sources.items():
            fs.pipe_file(f"/waveshard-decode-test/{rel}", source.read_bytes())
        folder = GroupFolder.scan("mitdb", "memory://waveshard-decode-test/mitdb")
        assert not folder.is_local
        tasks = _tasks(folder)
        for segment in ("100", "3000003_0003"):
            reference = _wfdb_counts(sources[f"mitdb/{segment}.hea"])
            _assert_counts_equal(count_digital_values(folder, tasks[segment]), reference)
    finally:
        fs.rm("/waveshard-decode-test", recursive=True)


def test_checksum_ok_is_none_where_the_header_gives_no_checksum(tmp_path: Path) -> None:
    """Signal lines may stop after the ADC zero: no initial value, checksum or name."""
    record_dir = tmp_path / "30" / "3000003"
    record_dir.mkdir(parents=True)
    for name in ("3000003_0003.hea", "3000003_0003.dat"):
        shutil.copyfile(PHYSIONET / name, record_dir / name)
    header = record_dir / "3000003_0003.hea"
    lines = header.read_text().splitlines()
    lines[1:3] = [" ".join(line.split()[:5]) for line in lines[1:3]]
    header.write_text("\n".join(lines) + "\n")
    folder = GroupFolder.scan("30", str(tmp_path / "30"))
    channels = count_digital_values(folder, _tasks(folder)["3000003_0003"])
    assert [c.checksum_ok for c in channels] == [None, None]
    _assert_counts_equal(channels, _wfdb_counts(header))


def test_format_16_longer_than_one_counting_block_equals_wfdb(tmp_path: Path) -> None:
    """MIT-BIH 100's 650,000 frames written as format 16: counted over three blocks."""
    real = wfdb.rdrecord(str(MITDB / "100"), physical=False)
    group_dir = tmp_path / "w16"
    group_dir.mkdir()
    wfdb.wrsamp(
        "w16",
        fs=360,
        units=["mV", "mV"],
        sig_name=["MLII", "V5"],
        d_signal=real.d_signal,
        fmt=["16", "16"],
        adc_gain=[200.0, 200.0],
        baseline=[1024, 1024],
        write_dir=str(group_dir),
    )
    folder = GroupFolder.scan("w16", str(group_dir))
    task = _tasks(folder)["w16"]
    assert task.sig_len > 2 * decode.BLOCK_FRAMES
    _assert_counts_equal(count_digital_values(folder, task), _wfdb_counts(group_dir / "w16.hea"))


def test_a_byte_offset_skips_what_comes_before_the_samples(tmp_path: Path) -> None:
    """``80+200``: the samples start 200 bytes into the file (bytes after them are ignored)."""
    record_dir = tmp_path / "30" / "3000003"
    record_dir.mkdir(parents=True)
    samples = (PHYSIONET / "3000003_0003.dat").read_bytes()
    (record_dir / "3000003_0003.dat").write_bytes(bytes(range(200)) + samples + b"\x7f" * 50)
    lines = (PHYSIONET / "3000003_0003.hea").read_text().splitlines()
    lines[1:3] = [line.replace(".dat 80 ", ".dat 80+200 ") for line in lines[1:3]]
    header = record_dir / "3000003_0003.hea"
    header.write_text("\n".join(lines) + "\n")
    folder = GroupFolder.scan("30", str(tmp_path / "30"))
    task = _tasks(folder)["3000003_0003"]
    assert {s.byte_offset for s in task.header.signals} == {200}
    _assert_counts_equal(count_digital_values(folder, task), _wfdb_counts(header))


def test_a_segment_of_no_samples_counts_nothing(tmp_path: Path) -> None:
    record_dir = tmp_path / "30" / "r"
    record_dir.mkdir(parents=True)
    lines = (PHYSIONET / "3000003_0003.hea").read_text().splitlines()
    lines[0] = "r 2 125 0 19:46:25.757"
    lines[1:3] = [line.replace("3000003_0003.dat", "r.dat") for line in lines[1:3]]
    (record_dir / "r.hea").write_text("\n".join(lines) + "\n")
    (record_dir / "r.dat").write_bytes(b"")
    folder = GroupFolder.scan("30", str(tmp_path / "30"))
    task = _tasks(folder)["r"]
    assert task.sig_len == 0
    channels = count_digital_values(folder, task)
    _assert_counts_equal(channels, [(np.zeros(0, np.int64), np.zeros(0, np.int64), 0)] * 2)
    assert [c.checksum_ok for c in channels] == [None, None]

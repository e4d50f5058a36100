"""The bundled sample tree: real MIMIC-III shapes, every hard case, determinism."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import wfdb
from joblib import parallel_config

from waveshard.datatools import sample
from waveshard.datatools.sample import SampleSummary, holds_sample, write_sample_tree

ROOT = Path(__file__).resolve().parents[1]
GROUPS = [str(g) for g in range(30, 40)]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    root = tmp_path_factory.mktemp("sample")
    return root, write_sample_tree(root)


def _records(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*") if p.is_dir())


def _segment_headers(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{folder.name}_[0-9][0-9][0-9][0-9].hea"))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_default_tree_layout_and_size(tree: tuple[Path, SampleSummary]) -> None:
    root, summary = tree
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == GROUPS
    assert holds_sample(root)  # marked as synthetic for the data tools
    records = _records(root)
    assert [r.name for r in records if r.parent.name == "30"] == ["3000001", "3000002"]
    assert all(r.name.startswith(r.parent.name) and len(r.name) == 7 for r in records)
    assert sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) <= 3_000_000

    n_segments = sum(len(_segment_headers(r)) + (r / f"{r.name}n.hea").exists() for r in records)
    dat_bytes = sum(p.stat().st_size for p in root.rglob("*.dat"))
    assert summary == SampleSummary(len(GROUPS), len(records), n_segments, dat_bytes)


def test_master_headers_list_exactly_the_existing_segments(
    tree: tuple[Path, SampleSummary],
) -> None:
    root, _ = tree
    for folder in _records(root):
        rec = folder.name
        master = wfdb.rdheader(str(folder / rec))
        assert master.seg_name[0] == f"{rec}_layout" and master.seg_len[0] == 0
        assert (folder / f"{rec}_layout.hea").is_file()
        listed = [n for n in master.seg_name[1:] if n != "~"]
        assert listed == [h.stem for h in _segment_headers(folder)]
        assert all((folder / f"{n}.dat").is_file() for n in listed)
        assert master.sig_len == sum(master.seg_len)
        # The layout is the union of the segments' signals.
        layout = wfdb.rdheader(str(folder / f"{rec}_layout"))
        names = {s for n in listed for s in wfdb.rdheader(str(folder / n)).sig_name}
        assert set(layout.sig_name) == names and layout.n_sig == master.n_sig
        whole = wfdb.rdrecord(str(folder / rec))
        assert whole.p_signal.shape == (master.sig_len, master.n_sig)


def test_header_text_has_the_mimic_shapes(tree: tuple[Path, SampleSummary]) -> None:
    root, _ = tree
    layout_line = re.compile(r"^~ 0 [0-9.]+(\(-?\d+\))?/\S+ 8 0 -128 0 0 \S+$")
    texts = {p: p.read_text() for p in root.rglob("*.hea")}
    for path, text in texts.items():
        if path.stem.endswith("_layout"):
            assert all(layout_line.match(line) for line in text.splitlines()[1:])
        # wfdb's own spelling "29(0)/mV" is rewritten to MIMIC's "29/mV".
        assert "(0)/" not in text
    segment_text = "".join(t for p, t in texts.items() if re.search(r"_\d{4}$", p.stem))
    assert " 80 0.833333(-100)/mmHg 8 0 " in segment_text
    assert re.search(r" 80 \d+/mV 8 0 ", segment_text)


def test_gains_and_baselines_change_between_segments(tree: tuple[Path, SampleSummary]) -> None:
    root, _ = tree
    changed = 0
    for folder in _records(root):
        seen: dict[str, set[tuple[float, int]]] = {}
        for hea in _segment_headers(folder):
            h = wfdb.rdheader(str(hea.with_suffix("")))
            for name, gain, base in zip(h.sig_name, h.adc_gain, h.baseline, strict=True):
                seen.setdefault(name, set()).add((gain, base))
        changed += any(len(v) > 1 for v in seen.values())
    assert changed >= 5


def test_zero_length_segment_gap_and_short_segments(tree: tuple[Path, SampleSummary]) -> None:
    root, _ = tree
    lengths = []
    gaps = 0
    for folder in _records(root):
        master = wfdb.rdheader(str(folder / folder.name))
        gaps += master.seg_name.count("~")
        for hea in _segment_headers(folder):
            lengths.append(wfdb.rdheader(str(hea.with_suffix(""))).sig_len)
            if lengths[-1] == 0:
                assert hea.with_suffix(".dat").stat().st_size == 0
    assert 0 in lengths and 4 in lengths and gaps >= 1
    assert max(lengths) <= 20_000


def test_numerics_records(tree: tuple[Path, SampleSummary]) -> None:
    root, _ = tree
    numerics = sorted(root.glob("*/*/*n.hea"))
    assert len(numerics) >= len(_records(root)) // 2
    invalid = 0
    for hea in numerics:
        assert hea.read_text().split()[2] == "0.0166666666667/125"
        h = wfdb.rdheader(str(hea.with_suffix("")))
        assert h.fs == pytest.approx(1 / 60) and h.counter_freq == 125
        assert set(h.fmt) == {"16"} and h.file_name[0] == f"{hea.stem}.dat"
        rec = wfdb.rdrecord(str(hea.with_suffix("")), physical=False)
        if "NBPSys" in rec.sig_name:
            invalid += int((rec.d_signal[:, rec.sig_name.index("NBPSys")] == -32768).sum())
    assert invalid > 0


def test_invalid_sample_runs(tree: tuple[Path, SampleSummary]) -> None:
    root, _ = tree
    runs = 0
    for hea in root.glob("*/*/*_[0-9][0-9][0-9][0-9].hea"):
        if wfdb.rdheader(str(hea.with_suffix(""))).sig_len == 0:
            continue  # wfdb.rdrecord cannot read an empty segment on its own
        rec = wfdb.rdrecord(str(hea.with_suffix("")), physical=False)
        bad = rec.d_signal == -128
        runs += int((bad[1:] & bad[:-1]).any())
    assert runs >= 1


def test_name_variants_across_records(tree: tuple[Path, SampleSummary]) -> None:
    root, _ = tree
    names = {n for f in _records(root) for n in wfdb.rdheader(str(f / f"{f.name}_layout")).sig_name}
    assert {"ABP", "ART", "PLETH", "Pleth", "II"} <= names


def test_generation_is_deterministic(tree: tuple[Path, SampleSummary], tmp_path: Path) -> None:
    root, summary = tree
    assert write_sample_tree(tmp_path / "again") == summary
    assert _files(tmp_path / "again") == _files(root)
    write_sample_tree(tmp_path / "other", groups=["30"], seed=1)
    assert (tmp_path / "other/30/3000001/3000001_0002.dat").read_bytes() != (
        root / "30/3000001/3000001_0002.dat"
    ).read_bytes()


def test_large_segment_path_writes_the_same_bytes(
    tree: tuple[Path, SampleSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = tree
    # Push every segment through the path used for very long segments.
    monkeypatch.setattr(sample, "_WRSAMP_MAX_SAMPLES", 8)
    write_sample_tree(tmp_path, groups=["30"])
    assert _files(tmp_path / "30") == _files(root / "30")


def test_skew_gives_heavy_tailed_bounded_records(tmp_path: Path) -> None:
    summary = write_sample_tree(
        tmp_path, groups=["30"], records_per_group=12, max_segment_samples=20_000, skew=1.5
    )
    sizes = sorted(sum(p.stat().st_size for p in f.glob("*_*.dat")) for f in _records(tmp_path))
    assert sizes[-1] > 5 * sizes[len(sizes) // 2]
    for hea in tmp_path.glob("*/*/*_[0-9][0-9][0-9][0-9].hea"):
        assert int(hea.read_text().split()[3]) <= 20_000
    assert summary.records == 12


def test_seed_extract_on_a_small_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # benchmarks/ is a top-level package beside src/, not an installed one.
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.baseline_seed import seed_extract

    write_sample_tree(tmp_path, groups=["30"], records_per_group=3)
    # Threads instead of loky processes: same chunking, without the worker start-up.
    with parallel_config(backend="threading"):
        table = seed_extract(tmp_path / "30", n_jobs=2)
    assert "error" not in table.columns
    expected = {f.name for f in _records(tmp_path)} | {p.stem for p in tmp_path.glob("30/*/*n.hea")}
    assert set(table["record"]) == expected
    assert set(table["stat"]) == {"count", "mean", "std", "min", "25%", "50%", "75%", "max"}
    # describe() counts the non-NaN physical samples that rdrecord returns.
    rec = wfdb.rdrecord(str(tmp_path / "30/3000001/3000001"))
    counts = table[(table["record"] == "3000001") & (table["stat"] == "count")]
    for i, name in enumerate(rec.sig_name):
        assert counts[name].item() == np.count_nonzero(~np.isnan(rec.p_signal[:, i]))

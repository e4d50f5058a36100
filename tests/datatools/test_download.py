"""`waveshard download` from a PhysioNet-shaped mirror served on 127.0.0.1 (wfdb's downloader)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from wfdb.io import download as wfdb_download

from tests.support.mirror import serve, top_level_records, write_mirror
from tests.support.paths import arrange_physionet
from waveshard.datatools.commands import main
from waveshard.datatools.download import DownloadError, download_records, select_record_dirs


@pytest.fixture(scope="module")
def source(sample_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Groups 30-31 of the sample tree and the real matched-subset records in group 32."""
    root = tmp_path_factory.mktemp("dlsrc") / "raw"
    shutil.copytree(sample_tree, root, ignore=shutil.ignore_patterns("3[2-9]"))
    real = arrange_physionet(tmp_path_factory.mktemp("dlphys") / "raw")
    shutil.copytree(real / "32", root / "32")
    return root


@pytest.fixture(scope="module")
def mirror(source: Path, tmp_path_factory: pytest.TempPathFactory):
    site = tmp_path_factory.mktemp("site")
    write_mirror(source, site, "mimic3wdb", "1.0")
    with serve(site) as url:
        yield url


def files(root: Path, under: str = "") -> dict[str, bytes]:
    base = root / under
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def test_mirror_has_physionet_records_files(source: Path, tmp_path: Path) -> None:
    db = write_mirror(source, tmp_path)
    assert (db / "RECORDS").read_text().splitlines()[:2] == ["30/3000001/", "30/3000002/"]
    assert (db / "30" / "RECORDS").read_text() == "3000001/\n3000002/\n"
    assert (db / "30/3000001/RECORDS").read_text() == "3000001\n3000001n\n"
    assert top_level_records(source / "32" / "p000878") == ["p000878-2137-10-26-16-57"]


def test_download_group_equals_the_source(mirror: str, source: Path, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    report = download_records(out=out, groups=["30"], base_url=mirror)
    assert report.records == ("30/3000001", "30/3000002")
    got = files(out)
    assert got == files(source, "30")
    assert report.files == len(got)
    # wfdb's index URL is restored afterwards
    assert wfdb_download.config.db_index_url == wfdb_download.PN_INDEX_URL


def test_download_matched_subset_records(mirror: str, source: Path, tmp_path: Path) -> None:
    download_records(out=tmp_path / "a", records=["32/s25047"], base_url=mirror)
    assert files(tmp_path / "a") == files(source, "32/s25047")
    # p000878's master names 36 segments, of which the copy holds 2: one clear error.
    with pytest.raises(DownloadError, match=r"record 32/p000878 .*3269321_0003\.hea"):
        download_records(out=tmp_path / "b", records=["32/p000878"], base_url=mirror)


def test_download_resumes(mirror: str, source: Path, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    download_records(out=out, records=["31/3100001"], base_url=mirror)
    dat = out / "31/3100001/3100001_0002.dat"
    full = dat.read_bytes()
    dat.write_bytes(full[: len(full) // 3])  # interrupted mid-file
    (out / "31/3100001/3100001n.dat").unlink()  # never fetched
    kept = out / "31/3100001/3100001_0001.dat"
    mtime = kept.stat().st_mtime_ns
    download_records(out=out, records=["3100001"], base_url=mirror)
    assert files(out) == files(source, "31/3100001")
    assert kept.stat().st_mtime_ns == mtime  # complete files are not fetched again


def test_selection_errors() -> None:
    listed = ["30/3000001/", "30/3000002/", "31/3100001/"]
    assert select_record_dirs(listed) == ["30/3000001", "30/3000002", "31/3100001"]
    assert select_record_dirs(listed, records=["3000002"]) == ["30/3000002"]
    with pytest.raises(DownloadError, match="not listed in the database's RECORDS file: 99"):
        select_record_dirs(listed, groups=["99"])


def test_cli_download(mirror: str, source: Path, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    args = ["download", "--out", str(out), "--groups", "31", "--base-url", mirror]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Downloaded 2 records" in result.output
    assert files(out) == files(source, "31")
    missing = CliRunner().invoke(main, [*args[:5], "--database", "nosuchdb", "--base-url", mirror])
    assert missing.exit_code == 1
    assert "cannot read" in missing.output and "nosuchdb/1.0/RECORDS" in missing.output


@pytest.fixture(scope="module")
def small_mirror(source: Path, tmp_path_factory: pytest.TempPathFactory):
    """Groups 30-31 only: every record complete, so the whole database can be fetched."""
    tree = tmp_path_factory.mktemp("smallsrc") / "raw"
    shutil.copytree(source, tree, ignore=shutil.ignore_patterns("32"))
    site = tmp_path_factory.mktemp("smallsite")
    write_mirror(tree, site, "mimic3wdb", "1.0")
    with serve(site) as url:
        yield url


def test_download_refuses_to_mix_real_records_into_the_sample(
    mirror: str, source: Path, sample_tree: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "01_raw"
    shutil.copytree(sample_tree, sample)
    before = files(sample)
    args = ["download", "--groups", "32", "--out", str(sample), "--base-url", mirror]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert "holds waveshard's synthetic sample" in refused.output
    assert "--out data/physionet" in refused.output and "--into-sample" in refused.output
    assert files(sample) == before
    with pytest.raises(DownloadError, match="synthetic sample"):
        download_records(out=sample, records=["32/s25047"], base_url=mirror)
    # on purpose, it mixes them
    args = ["download", "--records", "32/s25047", "--into-sample", "--out", str(sample)]
    mixed = CliRunner().invoke(main, [*args, "--base-url", mirror])
    assert mixed.exit_code == 0, mixed.output
    assert files(sample, "32/s25047") == files(source, "32/s25047")


def test_whole_database_needs_all_and_shows_its_size(small_mirror: str, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    refused = CliRunner().invoke(main, ["download", "--out", str(out), "--base-url", small_mirror])
    assert refused.exit_code == 1
    assert "all of mimic3wdb/1.0 (~6.7 TB in 67,830 records)" in refused.output
    assert "--all" in refused.output and "--groups 30" in refused.output
    assert not out.exists()
    with pytest.raises(DownloadError, match="--all"):
        download_records(out=out, base_url=small_mirror)
    everything = CliRunner().invoke(
        main, ["download", "--all", "--out", str(out), "--base-url", small_mirror]
    )
    assert everything.exit_code == 0, everything.output
    assert "Downloaded 4 records" in everything.output
    assert sorted(p.name for p in out.iterdir()) == ["30", "31"]


def test_whole_database_asks_in_a_terminal(
    small_mirror: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from waveshard.datatools import commands

    monkeypatch.setattr(commands, "_interactive", lambda: True)
    out = tmp_path / "raw"
    args = ["download", "--out", str(out), "--base-url", small_mirror]
    declined = CliRunner().invoke(main, args, input="n\n")
    assert declined.exit_code == 1
    assert "download all of mimic3wdb/1.0 (~6.7 TB in 67,830 records)" in declined.output
    assert not out.exists()
    accepted = CliRunner().invoke(main, args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Downloaded 4 records" in accepted.output


def test_list_options_take_spaces_semicolons_or_commas(mirror: str, tmp_path: Path) -> None:
    spellings = ["30/3000001 30/3000002", "30/3000001;30/3000002", "30/3000001,30/3000002"]
    for i, records in enumerate(spellings):
        out = tmp_path / str(i)
        args = ["download", "--records", records, "--out", str(out), "--base-url", mirror]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "Downloaded 2 records" in result.output

"""The README's commands, run as a user runs them."""

from __future__ import annotations

import filecmp
import shutil
import tarfile
from pathlib import Path

import pandas as pd

from tests.support import cli
from tests.support.paths import PROJECT_ROOT


def test_kedro_run_on_the_bundled_sample_is_clean(tmp_path: Path) -> None:
    raw = PROJECT_ROOT / "data" / "01_raw"
    params = f"raw_root={raw},output_root={tmp_path}"
    first = cli.run("kedro", "run", "--params", params)
    assert first.code == 0, first.stdout + first.stderr
    output = first.stdout + first.stderr
    assert "WARNING" not in output, output
    # Readable by a person when not in a terminal: one line per group step, our summary last
    # (Kedro's per-node and per-dataset lines went to DEBUG; they were 1,278 lines here).
    lines = output.splitlines()
    assert len(lines) < 60, output
    assert "All groups: 20 records, 78 segments ok, 0 failed, 0 problems" in lines[-2]
    assert lines[-1].endswith(
        f"Results under {tmp_path}: 04_feature/ (segment_features, "
        "record_features, window_features) and 08_reporting/ (signal_stats, "
        "extraction_errors, run_summary, clinical_errors, clinical_summary); README, "
        "'Using the results', shows how to load them."
    )
    segments = pd.read_parquet(tmp_path / "04_feature" / "segment_features.parquet")
    # a rerun overwrites cleanly
    second = cli.run("kedro", "run", "--params", params)
    assert second.code == 0, second.stdout + second.stderr
    again = pd.read_parquet(tmp_path / "04_feature" / "segment_features.parquet")
    pd.testing.assert_frame_equal(segments, again)


def test_make_sample_reproduces_the_bundled_tree(tmp_path: Path) -> None:
    result = cli.run("waveshard", "make-sample", "--out", str(tmp_path / "raw"))
    assert result.code == 0, result.stderr
    assert "Wrote 20 records, 78 segments" in result.stdout
    bundled = PROJECT_ROOT / "data" / "01_raw"
    made = sorted(p.relative_to(tmp_path / "raw") for p in (tmp_path / "raw").rglob("*.*"))
    assert made == sorted(p.relative_to(bundled) for p in bundled.rglob("*.*"))
    mismatch = [p for p in made if not filecmp.cmp(bundled / p, tmp_path / "raw" / p, False)]
    assert mismatch == []


def test_kedro_package_ships_no_credentials(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv", ".git", "data", "build", "dist", "*cache*"),
    )
    (project / "conf" / "local" / "credentials.yml").write_text(
        "s3:\n  key: AKIAEXAMPLESECRET\n  secret: do-not-ship-me\n"
    )
    result = cli.run("kedro", "package", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    archive = project / "dist" / "conf-waveshard.tar.gz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        contents = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert "conf/base/catalog.yml" in names
    assert not any(n.endswith("credentials.yml") for n in names)
    assert b"do-not-ship-me" not in contents
    wheel = next((project / "dist").glob("*.whl")).read_bytes()
    assert b"do-not-ship-me" not in wheel

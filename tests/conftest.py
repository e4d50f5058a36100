"""Shared fixtures: real PhysioNet records arranged in the MIMIC-III layout."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# moto's request recorder (used by the runner tests) writes to ./moto_recording unless
# told otherwise, and reads the setting when moto is first imported.
os.environ.setdefault(
    "MOTO_RECORDER_FILEPATH", os.path.join(tempfile.mkdtemp(prefix="waveshard-moto-"), "rec")
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: Real PhysioNet records kept in the project (tests/data/README.md: sources, licences).
PHYSIONET = PROJECT_ROOT / "tests" / "data" / "physionet"
MITDB = PROJECT_ROOT / "tests" / "data" / "mitdb"

#: Where each real record goes in the `<group>/<record>/` layout.
PHYSIONET_LAYOUT = {
    "30/3000003": ["3000003_0003.hea", "3000003_0003.dat"],
    "32/p000878": "p000878",
    "32/s25047": "s25047",
    "39/s00001": "s00001",
}


def arrange_physionet(root: Path) -> Path:
    """Copy the real records into ``root/<group>/<record>/`` (writable copies)."""
    for target, source in PHYSIONET_LAYOUT.items():
        dest = root / target
        if isinstance(source, list):
            dest.mkdir(parents=True)
            for name in source:
                shutil.copyfile(PHYSIONET / name, dest / name)
        else:
            shutil.copytree(PHYSIONET / source, dest, copy_function=shutil.copyfile)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


@pytest.fixture(scope="session")
def physionet_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real records as a read-only-by-convention MIMIC-III tree (groups 30, 32, 39)."""
    return arrange_physionet(tmp_path_factory.mktemp("physionet") / "raw")


@pytest.fixture(scope="session")
def sample_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly generated sample tree, as `waveshard make-sample` writes it."""
    from waveshard.sample import write_sample_tree

    root = tmp_path_factory.mktemp("sample") / "raw"
    write_sample_tree(root)
    return root

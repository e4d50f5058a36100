"""Where the project and its test data are, and the real records as a MIMIC-III tree."""

from __future__ import annotations

import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Real records kept in the project (tests/data/README.md: sources, licences).
TEST_DATA = PROJECT_ROOT / "tests" / "data"
PHYSIONET = TEST_DATA / "physionet"
MITDB = TEST_DATA / "mitdb"
#: The bundled synthetic sample tree.
SAMPLE_RAW = PROJECT_ROOT / "data" / "01_raw"

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

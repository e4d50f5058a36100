"""A copy of the project that ran on the bundled sample, as a user's clone after `kedro run`.

The notebook and kedro-viz tests read a run's outputs the way a user does (from
the project folder, through the default catalog), without writing into the
repository: the copy holds ``pyproject.toml``, ``conf/`` (no ``conf/local``
secrets), ``notebooks/`` and a link to the bundled raw sample; the package itself
is imported from the environment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import cli
from tests.support.paths import PROJECT_ROOT, SAMPLE_RAW

#: Environment of the project's CLIs in tests: no telemetry prompt or upload.
QUIET = {"KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


def copy_project(dest: Path) -> Path:
    """Copy what a clone needs to run and look at the sample into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, dest / name)
    shutil.copytree(PROJECT_ROOT / "conf", dest / "conf", ignore=shutil.ignore_patterns("local"))
    (dest / "conf" / "local").mkdir()
    shutil.copytree(PROJECT_ROOT / "notebooks", dest / "notebooks")
    (dest / "src").mkdir()
    (dest / "data").mkdir()
    (dest / "data" / "01_raw").symlink_to(SAMPLE_RAW, target_is_directory=True)
    return dest


def run_sample(project: Path) -> cli.Result:
    """``kedro run`` in ``project``, as the README's Quickstart says."""
    return cli.kedro("run", cwd=project, env=QUIET, timeout=600)

"""The project's code and configuration for the jobs: built once per run, uploaded once.

The wheel and conf archive are content-addressed (see :mod:`packaging`): an
unchanged project uploads nothing new.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from waveshard.runners import storage
from waveshard.runners.backends import default_work_dir
from waveshard.runners.context import RunContext
from waveshard.runners.packaging import Artefacts, build_conf_archive, build_wheel
from waveshard.runners.settings import ProcessingSettings

logger = logging.getLogger(__name__)


def build_artefacts(context: RunContext, package: str, settings: ProcessingSettings) -> Artefacts:
    """The project's wheel and the conf archive of ``base`` + the container environment."""
    import tomllib

    pyproject = tomllib.loads((context.project_path / "pyproject.toml").read_text())
    version = pyproject.get("project", {}).get("version", "0.0.0")
    source_dir = context.project_path / pyproject.get("tool", {}).get("kedro", {}).get(
        "source_dir", "src"
    )
    wheel_name, wheel = build_wheel(source_dir, package, version)
    conf_name, conf = build_conf_archive(
        context.conf_source, ["base", settings.container_env], package
    )
    return Artefacts(wheel_name, wheel, conf_name, conf)


def upload_artefacts(artefacts: Artefacts, settings: ProcessingSettings) -> str:
    """Upload wheel and conf once per content hash; return their prefix."""
    base = settings.code_uri
    if not base:
        base = str(Path(settings.local_work_dir or default_work_dir()) / "code")
    uri = storage.join(base, artefacts.digest[:16])
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (
            (artefacts.wheel_name, artefacts.wheel),
            (artefacts.conf_name, artefacts.conf),
        ):
            target = storage.join(uri, name)
            if not storage.exists(target):
                path = Path(tmp) / name
                path.write_bytes(data)
                storage.put_file(path, target)
    logger.info("Project code and conf at %s", uri)
    return uri

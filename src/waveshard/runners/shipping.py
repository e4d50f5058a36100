"""The project's code and configuration for the jobs: built once per run, uploaded once.

The wheel and conf archive are content-addressed (see :mod:`packaging`): an
unchanged project uploads nothing new.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from waveshard.runners import storage
from waveshard.runners.context import RunContext
from waveshard.runners.packaging import Artefacts, build_conf_archive, build_wheel
from waveshard.runners.planning import WORK_FOLDER
from waveshard.runners.settings import ProcessingSettings, SettingsError
from waveshard.uris import is_s3

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


def code_base(settings: ProcessingSettings, root: str) -> str:
    """Where the code goes: ``code_uri``, else ``<run root>/_waveshard/code``.

    Raises:
        SettingsError: SageMaker jobs cannot read code from this machine.
    """
    base = settings.code_uri or storage.join(root, WORK_FOLDER, "code")
    if settings.backend == "sagemaker" and not settings.dry_run and not is_s3(base):
        raise SettingsError(
            f"The jobs' code would go to {base}, which SageMaker cannot read: run with "
            "--env aws (outputs on S3) or set code_uri=s3://<bucket>/<prefix>."
        )
    return base


def upload_artefacts(artefacts: Artefacts, base: str) -> str:
    """Upload wheel and conf below ``base`` once per content hash; return their prefix."""
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

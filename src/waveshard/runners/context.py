"""What ``kedro run`` was called with: the runner API passes the pipeline and catalog only."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class RunContext:
    """The run's environment, runtime parameters, project and command line.

    Attributes:
        env: Kedro environment of the run (``--env``), ``None`` for the default.
        runtime_params: ``--params`` of the run.
        project_path: Root of the Kedro project.
        conf_source: The project's ``conf`` folder (or ``--conf-source``).
        argv: The command line, to print a rerun command.
    """

    env: str | None
    runtime_params: dict[str, Any]
    project_path: Path
    conf_source: Path
    argv: list[str]

    @classmethod
    def detect(cls, env: str | None = None) -> RunContext:
        """The context of the running ``kedro run`` (click's context), or of the cwd."""
        import click
        from kedro.framework.project import settings
        from kedro.utils import find_kedro_project

        ctx = click.get_current_context(silent=True)
        params = dict(ctx.params) if ctx is not None else {}
        project = find_kedro_project(Path.cwd()) or Path.cwd()
        conf = params.get("conf_source") or (project / settings.CONF_SOURCE)
        return cls(
            env=env or params.get("env") or os.environ.get("KEDRO_ENV"),
            runtime_params=dict(params.get("params") or {}),
            project_path=Path(project),
            conf_source=Path(conf),
            argv=list(sys.argv),
        )

"""The project's Kedro session: ``--namespaces`` that name nothing get one clear error.

Kedro filters the pipeline by namespace before any hook runs and reports a name
it does not know as a ``ValueError`` traceback. The namespaces here are one per
patient group (``group_30``), and users naturally type the group (``30``); the
error names the valid namespaces and the way to run some groups end to end.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import click
from kedro.framework.session import KedroSession

from waveshard.pipelines.namespaces import group_of


class NamespaceError(click.ClickException):
    """``--namespaces`` names no namespace of the pipeline (one ``Error:`` line)."""


class WaveshardSession(KedroSession):
    """``KedroSession`` whose run names the valid namespaces when ``--namespaces`` is wrong."""

    def run(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return super().run(*args, **kwargs)
        except ValueError:
            requested = list(kwargs.get("namespaces") or ())
            error = unknown_namespaces_error(
                requested, _top_namespaces(kwargs.get("pipeline_names"))
            )
            if error is None:
                raise
            raise error from None


def _top_namespaces(pipeline_names: Iterable[str] | None) -> list[str]:
    from kedro.framework.project import pipelines

    found: set[str] = set()
    for name in pipeline_names or ["__default__"]:
        pipeline = pipelines.get(name)
        if pipeline is not None:
            found.update(n.namespace.split(".")[0] for n in pipeline.nodes if n.namespace)
    return sorted(found)


def unknown_namespaces_error(requested: list[str], valid: list[str]) -> NamespaceError | None:
    """The error for ``--namespaces`` entries matching no namespace; ``None`` if all match.

    Each unknown entry carries the namespace probably meant (``30`` → ``group_30``).
    """

    def known(name: str) -> bool:
        return any(v == name or v.startswith(f"{name}.") or name.startswith(f"{v}.") for v in valid)

    unknown = [n for n in requested if not known(n)]
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = [v for v in valid if v.endswith(f"_{name}")] or difflib.get_close_matches(
            name, valid, n=1
        )
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    groups = [g for g in (group_of(n) or n for n in unknown) if g]
    shown = ", ".join(valid[:12]) + (", ..." if len(valid) > 12 else "")
    return NamespaceError(
        f"--namespaces {', '.join(hints)}: no such namespace; valid names: "
        f"{shown or '(none: the pipeline has no namespaces)'}. "
        f'To run some groups end to end instead, use --params "groups={" ".join(groups)}".'
    )

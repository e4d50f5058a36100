"""Group namespaces: every per-group pipeline runs once per patient group as ``group_<id>``.

The namespace is what ProcessingJobRunner turns into one job, so every per-group
pipeline uses these functions and nothing else to name its copies.
"""

from __future__ import annotations

from collections.abc import Sequence

from kedro.pipeline import Pipeline

_PREFIX = "group_"


def namespace_for(group: str) -> str:
    """Namespace of a group's pipelines, e.g. ``group_30``."""
    return f"{_PREFIX}{group}"


def group_of(namespace: str) -> str | None:
    """The group a namespace (or a name inside it) belongs to: ``group_30.x`` → ``30``."""
    top = namespace.split(".", 1)[0]
    return top[len(_PREFIX) :] or None if top.startswith(_PREFIX) else None


def per_group(template: Pipeline, groups: Sequence[str]) -> Pipeline:
    """One namespaced copy of ``template`` per group; parameters stay shared.

    Every group is processed with the same settings, so ``params:`` inputs are not
    namespaced.
    """
    shared = {name for name in template.inputs() if name.startswith("params:")}
    return sum(
        (Pipeline(template, namespace=namespace_for(g), parameters=shared) for g in groups),
        Pipeline([]),
    )

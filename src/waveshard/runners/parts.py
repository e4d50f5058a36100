"""Reading a dataset as several parts, or as none, in nodes that take ``*args``.

A namespace split into partitions writes each of its datasets once per partition;
a namespace that failed (``allow_partial=true``) wrote nothing. The nodes reading
them (combine) take their inputs as ``*args`` (one argument per group), so the
natural reading is: one argument per part, and no argument for a missing dataset.

That reading is set up with Kedro's public API only: the pipeline's free input is
renamed (``Pipeline(pipe, inputs={old: new})``, which copies the nodes), the new
name is registered in the catalog as a :class:`PartsDataset`, and the copied
nodes' functions are wrapped (the ``Node.func`` setter) to spread a
:class:`Parts` value into separate positional arguments.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

#: Suffix of the catalog name under which a dataset's parts are registered.
PARTS_SUFFIX = "__parts"


class Parts(tuple):
    """The loaded parts of one dataset (possibly none), spread into ``*args``."""


class PartsDataset(AbstractDataset[None, Parts]):
    """Loads every part dataset, in order, as one :class:`Parts` value; read-only."""

    def __init__(self, parts: Sequence[AbstractDataset], *, name: str = "") -> None:
        self._parts = list(parts)
        self._name = name

    def load(self) -> Parts:
        return Parts(part.load() for part in self._parts)

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._name} is read in parts; nothing writes it here.")

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._name, "parts": len(self._parts)}


class PartsNotSupported(ValueError):
    """A node reading a dataset in parts does not take ``*args``."""


def read_in_parts(
    pipeline: Pipeline, catalog, parts: dict[str, Sequence[AbstractDataset]]
) -> Pipeline:
    """``pipeline`` with each dataset of ``parts`` read as its parts (none: not at all).

    Args:
        pipeline: Nodes reading the datasets (as free inputs).
        catalog: The run's catalog; the parts are registered in it.
        parts: Dataset name → the datasets of its parts, in order.

    Returns:
        A copy of ``pipeline`` whose nodes spread each dataset's parts into
        their ``*args``; ``pipeline`` itself is left as it was.

    Raises:
        PartsNotSupported: A node reading one of the datasets does not take
            ``*args``.
    """
    renamed = {name: name + PARTS_SUFFIX for name in parts if name in pipeline.inputs()}
    if not renamed:
        return pipeline
    for node in pipeline.nodes:
        read = sorted(set(node.inputs) & set(renamed))
        if read and not _takes_varargs(node.func):
            raise PartsNotSupported(
                f"Node {node.name} reads {read}, which come in parts (or not at all); only "
                "nodes whose function takes *args can read them."
            )
    for name, new in renamed.items():
        catalog[new] = PartsDataset(parts[name], name=name)
    with warnings.catch_warnings():
        # Namespaced dataset names read outside their namespace, as combine does.
        warnings.filterwarnings("ignore", "One or more dataset names contain '.'")
        rewired = Pipeline(pipeline, inputs=renamed)
    targets = set(renamed.values())
    for node in rewired.nodes:
        if set(node.inputs) & targets:
            node.func = _spreading(node.func)
    return rewired


def _takes_varargs(func: Callable) -> bool:
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)


def _spreading(func: Callable) -> Callable:
    @functools.wraps(func)
    def spread(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(value, Parts) for value in kwargs.values()):
            raise PartsNotSupported(
                f"{func.__name__} takes a dataset in parts as a named input; parts can "
                "only be spread into *args."
            )
        flat: list[Any] = []
        for value in args:
            flat.extend(value) if isinstance(value, Parts) else flat.append(value)
        return func(*flat, **kwargs)

    return spread


def part_datasets(catalog, layout: dict[str, dict[str, Any]]) -> dict[str, list[AbstractDataset]]:
    """The datasets of every part that ``layout`` describes, built from ``catalog``'s config.

    Args:
        catalog: A catalog holding each dataset of ``layout`` (where the whole
            dataset would be).
        layout: Dataset → ``{"relative": path relative to its namespace's output
            prefix, "parts": [part folder below that prefix, ...]}``, as
            :func:`waveshard.runners.planning.parts_layout` gives it.

    Returns:
        Dataset → one dataset per part: the same type and options, at
        ``<prefix>/<part folder>/<relative>``.
    """
    resolver = catalog.config_resolver
    found: dict[str, list[AbstractDataset]] = {}
    for name, entry in layout.items():
        config = dict(resolver.config.get(name) or resolver.resolve_pattern(name))
        key = "filepath" if "filepath" in config else "path"
        location, relative = str(config[key]), entry["relative"]
        if not location.endswith(relative):
            raise DatasetError(
                f"{name} is at {location}, which does not end with {relative}: its parts "
                "cannot be found."
            )
        prefix = location[: -len(relative)]
        found[name] = [
            AbstractDataset.from_config(
                f"{name}@{part}", {**config, key: f"{prefix}{part}/{relative}"}
            )
            for part in entry["parts"]
        ]
    return found


class PartsReadingRunner(SequentialRunner):
    """``SequentialRunner`` whose nodes read the datasets of ``layout`` in their parts.

    What the combine job runs in its container: the same nodes as in the driver,
    reading each group's outputs as the parts its partitions wrote.

    Args:
        layout: See :func:`part_datasets`.
    """

    def __init__(self, layout: dict[str, dict[str, Any]], *, is_async: bool = False) -> None:
        super().__init__(is_async=is_async)
        self._layout = layout

    def run(self, pipeline, catalog, hook_manager=None, run_id=None, only_missing_outputs=False):
        rewired = read_in_parts(pipeline, catalog, part_datasets(catalog, self._layout))
        return super().run(
            rewired,
            catalog,
            hook_manager,
            run_id=run_id,
            only_missing_outputs=only_missing_outputs,
        )

"""The architecture, checked: each layer imports only the layers below it, and no cycles."""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.support.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "src" / "waveshard"

#: What each part of the package may import from waveshard (besides itself).
ALLOWED = {
    "contract": set(),
    "isolation": {"contract"},
    "uris": set(),
    "config": set(),
    "wfdb_io": {"contract", "isolation"},
    "features": {"contract"},
    "extraction": {"contract", "isolation", "wfdb_io", "features"},
    "datasets": {"contract", "uris", "wfdb_io"},
    "pipelines": {"contract", "isolation", "wfdb_io", "features", "extraction"},
    "datatools": {"contract", "uris", "config", "wfdb_io"},
    "runners": {"contract", "uris", "config"},
    "hooks": {"contract", "uris", "config", "datatools", "datasets", "pipelines", "session"},
    "session": {"pipelines"},
    "pipeline_registry": {"config", "pipelines"},
    "settings": {"config", "hooks", "session"},
    "__main__": set(),
    "__init__": set(),
}


def _part(module: str) -> str:
    """``waveshard.wfdb_io.headers`` → ``wfdb_io``."""
    return module.split(".")[1] if module.count(".") else "__init__"


def _imports() -> dict[str, set[str]]:
    """Module → the waveshard modules it imports (at any depth of the file)."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(p for p in rel.parts if p != "__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found[module].update(n for n in names if n.startswith("waveshard."))
    return found


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    parts = {p for p in parts if not p.startswith((".", "__pycache__"))} - {"py"}
    assert parts <= set(ALLOWED), f"add {sorted(parts - set(ALLOWED))} to ALLOWED"


def test_no_part_imports_a_layer_above_it() -> None:
    wrong = []
    for module, imported in _imports().items():
        part = _part(module)
        for name in imported:
            target = _part(name)
            if target != part and target not in ALLOWED[part]:
                wrong.append(f"{module} imports {name}")
    assert wrong == []


def test_no_import_cycles_between_parts() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, imported in _imports().items():
        for name in imported:
            if _part(name) != _part(module):
                graph[_part(module)].add(_part(name))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in graph[start]
        )

    assert [p for p in list(graph) if reaches(p, p, {p})] == []

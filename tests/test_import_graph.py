"""The import graph of ``vsdmot`` has no cycle, between modules or between subpackages.

A cycle makes the import order matter (a half-initialised module raises ``ImportError``
or ``AttributeError`` depending on which module a caller imports first), and an import
tucked inside a function or under ``if TYPE_CHECKING:`` only hides a dependency that
points the wrong way. So the graph counts every import statement anywhere in a module:
module level, inside functions and classes, under ``TYPE_CHECKING``, absolute and
relative.

Edges:

* ``import a.b.c`` and ``from a.b.c import x``: to ``a.b.c`` (or its longest prefix
  that is a module of the package); ``from a.b import c`` where ``a.b.c`` is a module:
  to ``a.b.c``, the submodule, not to the package.
* A package ``__init__.py`` importing its own submodules is an edge package -> submodule,
  and a submodule importing names from its package ``__init__`` is an edge submodule ->
  package; together they are a cycle.
* The implicit import of the parent packages that Python performs before a submodule is
  not an edge: otherwise every package whose ``__init__`` re-exports its submodules would
  be a cycle with each of them.

The subpackage graph collapses every module to ``vsdmot.<x>`` (its top-level subpackage,
or the top-level module itself) and must be acyclic too, so layers depend one way only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "vsdmot"
Graph = dict[str, set[str]]


def module_files(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``package_dir``."""
    root = package_dir.parent
    modules: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module ``name`` names, or its longest prefix that is one (``name`` may end in
    a class or function); ``None`` outside the package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Fully qualified names an import statement reaches (``pkg.mod`` or ``pkg.mod.name``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        # Relative: level 1 is the package the module belongs to (itself for __init__).
        package = module if is_package else module.rpartition(".")[0]
        parts = package.split(".")
        base = parts[: len(parts) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    return [source] + [f"{source}.{alias.name}" for alias in node.names]


def import_graph(modules: Mapping[str, Path]) -> Graph:
    """Module -> the modules of the package it imports (any import statement anywhere)."""
    graph: Graph = {name: set() for name in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = _imported_names(node, module, is_package)
            if isinstance(node, ast.ImportFrom):
                # ``from pkg import sub`` reaches the submodule; ``from pkg import name``
                # (a name defined in pkg/__init__.py) reaches the package.
                source, members = names[0], names[1:]
                targets = [m if m in modules else source for m in members]
            else:
                targets = names
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != module:
                    graph[module].add(resolved)
    return graph


def collapse_to_subpackages(graph: Mapping[str, Iterable[str]]) -> Graph:
    """``vsdmot.a.b.c`` -> ``vsdmot.a``; self-edges dropped."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    collapsed: Graph = {}
    for module, targets in graph.items():
        collapsed.setdefault(top(module), set())
        for target in targets:
            if top(target) != top(module):
                collapsed[top(module)].add(top(target))
    return collapsed


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        # Each frame: a node and the iterator over its remaining successors.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def describe(components: list[list[str]], graph: Mapping[str, Iterable[str]]) -> str:
    """One line per cycle: its members, then the edges between them (what to cut)."""
    lines = []
    for component in components:
        members = set(component)
        edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in members]
        lines.append(f"cycle {component}:\n    " + "\n    ".join(edges))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(module_files())


def test_no_module_cycle(graph: Graph) -> None:
    found = cycles(graph)
    assert not found, "import cycles between modules:\n" + describe(found, graph)


def test_no_subpackage_cycle(graph: Graph) -> None:
    collapsed = collapse_to_subpackages(graph)
    found = cycles(collapsed)
    assert not found, "import cycles between subpackages:\n" + describe(found, collapsed)


# -- the graph code itself, on a package written for the test -------------------------


def _write(root: Path, files: Mapping[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return module_files(root / "pkg")


def test_graph_edges_cover_hidden_and_relative_imports(tmp_path: Path) -> None:
    modules = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub import base\n",
            "pkg/sub/__init__.py": "from .base import Base\n",
            "pkg/sub/base.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.other import Other\n"
                "def f():\n    from . import leaf\n"
            ),
            "pkg/sub/leaf.py": "from pkg.sub import Base\nimport pkg.other.deep\n",
            "pkg/other/__init__.py": "",
            "pkg/other/deep.py": "from .. import sub\n",
        },
    )
    graph = import_graph(modules)
    assert graph["pkg"] == {"pkg.sub.base"}
    assert graph["pkg.sub"] == {"pkg.sub.base"}
    assert graph["pkg.sub.base"] == {"pkg.other", "pkg.sub.leaf"}
    assert graph["pkg.sub.leaf"] == {"pkg.sub", "pkg.other.deep"}
    assert graph["pkg.other.deep"] == {"pkg.sub"}
    # leaf -> sub (names from the package __init__) -> base -> leaf (in a function), and
    # leaf -> other.deep -> sub (relative import of a sibling package).
    assert cycles(graph) == [["pkg.other.deep", "pkg.sub", "pkg.sub.base", "pkg.sub.leaf"]]
    assert cycles(collapse_to_subpackages(graph)) == [["pkg.other", "pkg.sub"]]


def test_acyclic_graph_has_no_cycle() -> None:
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"c"}}) == [["a", "b"]]

"""Every function fits on a screen, and takes few enough parameters to call by heart.

Limits: a body (statements after the docstring) of at most 50 lines, and at most 10
parameters (``self`` / ``cls`` not counted) outside ``vsdmot/cli/``, whose typer
commands declare one parameter per option. ``__init__`` of a registered tracker (a class
with a ``tracker_id = "..."`` attribute) is exempt from the parameter limit: the tracker
registry reads its flat, typed signature.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vsdmot"
MAX_BODY_LINES = 50
MAX_PARAMS = 10

Function = ast.FunctionDef | ast.AsyncFunctionDef


def body_lines(node: Function) -> int:
    """Lines from the first statement after the docstring to the end of the last one."""
    body = node.body
    first = body[0]
    value = first.value if isinstance(first, ast.Expr) else None
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        body = body[1:]
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def param_count(node: Function) -> int:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    return len(names) - (1 if names and names[0] in ("self", "cls") else 0)


def is_registered_tracker(cls: ast.ClassDef) -> bool:
    """A class body that assigns a string to ``tracker_id``."""
    for stmt in cls.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        value = getattr(stmt, "value", None)
        named = any(isinstance(t, ast.Name) and t.id == "tracker_id" for t in targets)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return True
    return False


def _functions(tree: ast.Module) -> list[tuple[Function, ast.ClassDef | None]]:
    """Every function with the class it is defined in directly (``None`` outside a class)."""
    found: list[tuple[Function, ast.ClassDef | None]] = []

    def visit(node: ast.AST, owner: ast.ClassDef | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((child, owner))
                visit(child, None)
            elif isinstance(child, ast.ClassDef):
                visit(child, child)
            else:
                visit(child, owner)

    visit(tree, None)
    return found


def offenders() -> list[str]:
    """``file:line function: what`` for every function over a limit."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        in_cli = rel.startswith("vsdmot/cli/")
        for fn, owner in _functions(ast.parse(path.read_text(encoding="utf-8"), rel)):
            problems = []
            lines = body_lines(fn)
            if lines > MAX_BODY_LINES:
                problems.append(f"body of {lines} lines > {MAX_BODY_LINES}")
            exempt = fn.name == "__init__" and owner is not None and is_registered_tracker(owner)
            params = param_count(fn)
            if params > MAX_PARAMS and not in_cli and not exempt:
                problems.append(f"{params} parameters > {MAX_PARAMS}")
            if problems:
                name = f"{owner.name}.{fn.name}" if owner is not None else fn.name
                out.append(f"{rel}:{fn.lineno} {name}: {', '.join(problems)}")
    return out


def test_the_checks_measure_what_they_say() -> None:
    tree = ast.parse(
        "class T:\n"
        "    tracker_id = 'x'\n"
        "    def __init__(self, a, b, *, c):\n"
        "        '''Doc.'''\n"
        "        x = 1\n"
        "\n"
        "        return x\n"
    )
    ((fn, owner),) = _functions(tree)
    assert owner is not None and is_registered_tracker(owner)
    assert body_lines(fn) == 3 and param_count(fn) == 3


def test_functions_fit_the_limits() -> None:
    found = offenders()
    assert not found, f"{len(found)} function(s) over the limits:\n" + "\n".join(found)

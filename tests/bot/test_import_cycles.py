"""No import cycle in bot/: the import graph of its modules, read with `ast`, has no cycle.

Counted: imports a module runs when it is imported (module level, class bodies, `try`/`if` blocks).
Not counted: imports under `if TYPE_CHECKING:`. A second check also counts imports inside functions,
so a cycle cannot hide behind a deferred import either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module of `package` under `root` (`bot.commands` for its __init__)."""
    names: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(body: Sequence[ast.AST], *, deferred: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports `body` runs, skipping `if TYPE_CHECKING:` (and function bodies unless `deferred`)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse, deferred=deferred)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if deferred:
                yield from _imports(node.body, deferred=deferred)
        else:  # class bodies, try/except/finally, with, for, match: all run at import
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                yield from _imports(getattr(node, field, []), deferred=deferred)


def import_graph(root: Path, package: str, *, deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports (`from p import m` of a submodule imports p.m)."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _imports(tree.body, deferred=deferred):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, *([base] if base else [])])
                subs = [f"{base}.{alias.name}" for alias in node.names]
                targets = [sub if sub in modules else base for sub in subs]
            for target in targets:
                while target and target not in modules:  # `import bot.x.y` of a name inside bot.x
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), as a sorted list of names."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(graph: dict[str, set[str]], group: list[str]) -> str:
    edges = [f"{a} -> {b}" for a in group for b in sorted(graph[a]) if b in group]
    return "cycle among " + ", ".join(group) + ":\n  " + "\n  ".join(edges)


@pytest.mark.parametrize("deferred", [False, True], ids=["module-level", "with-deferred"])
def test_bot_has_no_import_cycle(deferred: bool) -> None:
    graph = import_graph(ROOT, "bot", deferred=deferred)
    assert "bot.lexicon" in graph["bot.commands.parse"]  # the graph sees real imports
    found = cycles(graph)
    assert not found, "\n".join(_describe(graph, group) for group in found)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_checker_sees_cycles_and_skips_type_checking(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import X\n",
            "pkg/sub/__init__.py": "from pkg.sub.c import f\n",
            "pkg/sub/c.py": "from . import d\n",
            "pkg/sub/d.py": "import pkg.sub\n",
            "pkg/e.py": "def f():\n    from pkg import a\n",
            "pkg/g.py": "try:\n    import pkg.e\nexcept ImportError:\n    pass\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == set()  # only under TYPE_CHECKING
    assert graph["pkg.sub.c"] == {"pkg.sub.d"}  # relative `from . import d`
    assert graph["pkg.e"] == set()  # inside a function: deferred
    assert graph["pkg.g"] == {"pkg.e"}
    assert cycles(graph) == [["pkg.sub", "pkg.sub.c", "pkg.sub.d"]]
    assert import_graph(tmp_path, "pkg", deferred=True)["pkg.e"] == {"pkg.a"}

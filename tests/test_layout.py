"""The layout the README describes holds: imports run one way between the packages, and no
module imports itself back through another.

`turnaround` (the application) may import `loaders`, `reports` and `warehouse`; `loaders`
(ingest) and `reports` (the page, the artefacts, the terminal table) import only themselves and
`warehouse`, the one small module everything shares, which imports none of them. Every import
counts, those inside functions and under `TYPE_CHECKING` too: a cycle deferred is still one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("turnaround", "loaders", "reports", "warehouse")
#: package -> the packages it may import (besides itself)
ALLOWED = {
    "turnaround": {"loaders", "reports", "warehouse"},
    "loaders": {"warehouse"},
    "reports": {"warehouse"},
    "warehouse": set(),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules `path` imports (a `from package import name` of a submodule counts
    as that submodule)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in known else node.module)
    return {name for name in names if name.split(".")[0] in PACKAGES}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_imports_run_one_way_between_packages() -> None:
    wrong = [
        f"{source} imports {target}"
        for source, targets in sorted(graph().items())
        for target in sorted(targets)
        if (package := source.split(".")[0]) != (other := target.split(".")[0])
        and other not in ALLOWED[package]
    ]
    assert wrong == []


def test_no_module_imports_itself_back() -> None:
    # a package's __init__ that only re-exports (lazily) is not a cycle of its own modules
    edges = {
        source: {t for t in targets if not source.startswith(t + ".")}
        for source, targets in graph().items()
    }
    assert cycles(edges) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(
    edges: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(edges) == expected


def test_the_checker_sees_a_wrong_way_import(tmp_path: Path) -> None:
    module = tmp_path / "page.py"
    module.write_text("def f():\n    from loaders.config import Config\n", encoding="utf-8")
    assert imported(module, modules()) == {"loaders.config"}


#: the benchmark's rendering of RESULTS.md: long text, one function per section
LONG_ALLOWED = {("bench/render.py", "render"), ("bench/methods.py", "methods"),
                ("bench/targets.py", "targets"), ("bench/spark.py", "spark_section")}  # fmt: skip


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for folder in (*PACKAGES, "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            if text.count("\n") > 400:
                too_long.append(f"{name}: {text.count(chr(10))} lines")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > 60 and (name, node.name) not in LONG_ALLOWED:
                        too_long.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert too_long == []

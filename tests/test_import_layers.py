"""The core package imports one way: no cycle among symgraph/ modules, and few, explained, function-level imports.

The import graph is read from the source with ``ast`` (module-level and function-level imports both count), so a
cycle hidden inside a function is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "symgraph"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    """The symgraph modules an import statement loads (``from symgraph.x import y``: ``symgraph.x.y`` when that
    is a module, else ``symgraph.x``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = node.module or ""
    if node.level:
        package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    if len(found) < len(node.names) and base in MODULES:
        found.append(base)
    return found


def imports(name: str) -> list[tuple[str, ast.stmt, bool]]:
    """(imported module, statement, inside a function) for every symgraph import in module ``name``."""
    tree = ast.parse(MODULES[name].read_text())
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((target, child, in_function) for target in imported_modules(child, name))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: {target for target, _, _ in imports(name) if target != name} for name in MODULES}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """The modules ``start`` imports, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle (first module repeated at the end) in ``graph``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def test_import_graph_reads_function_level_and_relative_imports():
    graph = import_graph()
    assert "symgraph.graph" in graph["symgraph.op"]
    assert "symgraph.types" in graph["symgraph.graph"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_symgraph():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_vocabulary_imports_nothing_above_it():
    vocabulary = {"symgraph.errors", "symgraph.config", "symgraph.types", "symgraph.graph", "symgraph.op",
                  "symgraph.fgraph"}  # fmt: skip
    graph = import_graph()
    above = {name: reachable(graph, name) - vocabulary for name in vocabulary}
    assert not any(above.values()), f"the vocabulary imports higher layers: {above}"


def test_autodiff_does_not_import_the_rewrite_registry():
    graph = import_graph()
    assert "symgraph.stable_forms" in graph["symgraph.grad"]
    rewrites = {m for m in reachable(graph, "symgraph.grad") if m.startswith("symgraph.rewrite")}
    assert rewrites == {"symgraph.rewrite_driver"}, rewrites


def test_function_level_imports_say_why():
    unexplained = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for target, statement, in_function in imports(name):
            if not in_function:
                continue
            text = lines[statement.lineno - 2 : statement.end_lineno]  # the line above and the statement
            if not any("#" in line for line in text):
                unexplained.append(f"{path.relative_to(PACKAGE.parent)}:{statement.lineno} imports {target}")
    assert not unexplained, "function-level imports without a comment saying why:\n" + "\n".join(unexplained)


def test_core_loads_no_module_by_name():
    """``importlib`` hides a dependency from this check; the backend registry (outside symgraph) is where names
    are looked up."""
    users = [
        name
        for name in MODULES
        for node in ast.walk(ast.parse(MODULES[name].read_text()))
        if isinstance(node, ast.Import) and any(a.name == "importlib" for a in node.names)
    ]
    assert not users, f"symgraph modules importing importlib: {users}"

"""The engine's module graph: no import cycles, counting imports made only for type checking."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "seq2seq_core"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that `path` imports anywhere in it (under `if TYPE_CHECKING:` and
    inside functions too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {m for m in found if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imported(p, modules) for p in paths}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the list of modules around it, or None when the graph is acyclic.
    A package's own `__init__` is left out of its submodules' edges: importing
    `seq2seq_core.x` runs it first, but it only re-exports."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for dep in sorted(edges[node]):
            if node.startswith(dep + "."):
                continue
            if state.get(dep) == "open":
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_sees_type_checking_imports():
    edges = graph()
    assert f"{PACKAGE}.models" in edges[f"{PACKAGE}.decoding"]  # only under TYPE_CHECKING
    assert f"{PACKAGE}.layers" in edges[f"{PACKAGE}.compiled"]
    assert f"{PACKAGE}.vocab" in edges[f"{PACKAGE}.charts.inspection"]  # `from ..vocab`


def test_the_engine_has_no_import_cycle():
    found = cycle(graph())
    assert found is None, " -> ".join(found)


def test_cycle_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_models_do_not_import_what_uses_them():
    users = {f"{PACKAGE}.{m}" for m in ("decoding", "inspection", "strategies", "evaluation")}
    assert not graph()[f"{PACKAGE}.models"] & users
    assert f"{PACKAGE}.models" not in graph()[f"{PACKAGE}.compiled"]

"""The house rules of the import graph (README "Architecture"), checked on the modules' source.

Layers, lowest first: infra < domain < adapters (yamledit, registry, scm, deploy; peers that never
import each other) < resolve < config < flows < faces (commands, cli, action, ci). A module may import
its own layer or a lower one. No circles, no imports of our modules inside functions (only heavy
third-party libraries load lazily, inside their adapter), and at most 9 floors: the longest chain of
module-level imports between our modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("updater", "testing")
MAX_FLOORS = 9
LAYERS = ("infra", "domain", "adapters", "resolve", "config", "flows", "faces")
ADAPTERS = ("yamledit", "registry", "scm", "deploy")
FACES = ("commands", "cli", "action", "ci", "__main__")

Graph = Mapping[str, set[str]]


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Return every module of updater/ and testing/ by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _target(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(module: str, path: Path, known: Mapping[str, Path]) -> Iterator[tuple[str, int, bool]]:
    """Yield (imported module of ours, line, inside a function) for every import statement."""

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                target = _target(module, path, child)
                names = [target] + [f"{target}.{alias.name}" for alias in child.names]
            else:
                names = []
            for name in names:
                if name in known and name != module:
                    yield name, child.lineno, in_function
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from visit(child, nested)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), False)


def graph(known: Mapping[str, Path]) -> dict[str, set[str]]:
    """Return module -> the modules of ours it imports at module level (TYPE_CHECKING blocks included)."""
    return {m: {t for t, _, lazy in imports(m, p, known) if not lazy} for m, p in known.items()}


def layer(module: str) -> tuple[int, str]:
    """Return (layer index, room) of an updater module; the room tells adapter peers apart."""
    parts = module.split(".")
    room = parts[1] if len(parts) > 1 else "infra"  # the bare package holds only __version__
    if room in FACES:
        return LAYERS.index("faces"), room
    if room in ADAPTERS:
        return LAYERS.index("adapters"), room
    return LAYERS.index(room), room


def layer_violations(edges: Graph) -> list[str]:
    found = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            if module.startswith("updater") and target.startswith("testing"):
                found.append(f"{module} -> {target}: the product never imports the test helpers")
                continue
            if not (module.startswith("updater") and target.startswith("updater")):
                continue
            (low, room), (high, other) = layer(module), layer(target)
            if high > low:
                found.append(f"{module} ({LAYERS[low]}) -> {target} ({LAYERS[high]}): imports upwards")
            elif low == high == LAYERS.index("adapters") and room != other:
                found.append(f"{module} -> {target}: adapters are peers and never import each other")
    return found


def cycles(edges: Graph) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def longest_chain(edges: Graph) -> list[str]:
    """Return the longest chain of imports (acyclic graph assumed)."""
    memo: dict[str, list[str]] = {}

    def chain(v: str) -> list[str]:
        if v not in memo:
            memo[v] = [v]
            best = max((chain(w) for w in edges.get(v, ())), key=len, default=[])
            memo[v] = [v, *best]
        return memo[v]

    return max((chain(v) for v in sorted(edges)), key=len)


KNOWN = modules()
EDGES = graph(KNOWN)


def test_the_walk_sees_the_whole_house() -> None:
    assert {"updater.cli", "updater.infra.errors", "updater.flows.write", "testing.github_server"} <= set(
        KNOWN
    )
    assert "updater.flows.plan" in EDGES["updater.flows.write"]


def test_no_module_imports_a_higher_layer() -> None:
    assert layer_violations(EDGES) == []


def test_no_import_circles() -> None:
    assert cycles(EDGES) == []


def test_no_function_level_imports_of_our_modules() -> None:
    lazy = [
        f"{p.relative_to(ROOT)}:{line}: {t}"
        for m, p in KNOWN.items()
        for t, line, inner in imports(m, p, KNOWN)
        if inner
    ]
    assert lazy == []


def test_at_most_nine_floors() -> None:
    chain = longest_chain(EDGES)
    assert len(chain) <= MAX_FLOORS, " -> ".join(chain)


@pytest.mark.parametrize(
    ("where", "line", "expected"),
    [
        ("updater/infra/atomic.py", "from updater.flows import plan\n", "imports upwards"),
        ("updater/scm/files.py", "from updater.registry import base\n", "adapters are peers"),
        ("updater/domain/keypath.py", "def f() -> None:\n    from updater.infra import errors\n", "lazy"),
        ("updater/flows/plan.py", "from updater.flows import write\n", "cycle"),
    ],
)
def test_the_checks_catch_a_violation(tmp_path: Path, where: str, line: str, expected: str) -> None:
    """Each rule fails on a copy of the house with one bad import added (so the checks can fail)."""
    for path in KNOWN.values():
        copy = tmp_path / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8")
        copy.write_text(text + "\n" + line if copy == tmp_path / where else text, encoding="utf-8")
    known = modules(tmp_path)
    edges = graph(known)
    if expected == "lazy":
        assert any(inner for m, p in known.items() for _, _, inner in imports(m, p, known))
    elif expected == "cycle":
        assert cycles(edges)
    else:
        assert any(expected in problem for problem in layer_violations(edges))


def test_the_floor_count_catches_a_tall_chain() -> None:
    tall = {f"m{i}": {f"m{i + 1}"} for i in range(MAX_FLOORS)}
    assert len(longest_chain(tall)) == MAX_FLOORS + 1

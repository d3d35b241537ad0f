"""No import cycle among nablab's modules, and every module imports on its own.

The import graph is read from the source with `ast`: module → the nablab modules it
imports at top level (`from . import x` counts as importing the module x when x is one).
Imports inside functions are not edges: they run later, when every module is loaded.
"""

import ast
import subprocess
import sys
from pathlib import Path

import nablab

ROOT = Path(nablab.__file__).parent


def modules():
    """Dotted name → path of every module of the package."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(module, path, node):
    """The absolute module a `from ... import` names, for `module` at `path`."""
    if node.level == 0:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def import_graph():
    """Module → the set of package modules it imports at top level."""
    known = modules()
    graph = {}
    for module, path in known.items():
        edges = set()
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, path, node)
                for alias in node.names:
                    child = f"{source}.{alias.name}"
                    if child in known:
                        edges.add(child)
                    elif source in known:
                        edges.add(source)
        graph[module] = edges - {module}
    return graph


def find_cycle(graph):
    """One cycle as a list of modules [a, b, ..., a], or None (iterative depth-first search)."""
    state = {}  # module -> "open" while on the current path, "done" after
    for start in graph:
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = "open"
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = "done"
                stack.pop()
            elif state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert "nablab.autograd.tensor" in graph and "nablab.ops" in graph["nablab"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_engine_does_not_import_the_ops():
    graph = import_graph()
    engine = [m for m in graph if m.startswith("nablab.autograd")]
    assert all(not any(e.startswith("nablab.ops") for e in graph[m]) for m in engine)


# One interpreter importing each module first, after forgetting every nablab module.
_IMPORT_EACH = """
import importlib, sys
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "nablab" or m.startswith("nablab.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as e:
        print(f"{name}: {type(e).__name__}: {e}")
"""


def test_every_module_imports_alone():
    names = sorted(modules())
    run = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, *names],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT.parent,
    )
    assert run.returncode == 0 and run.stdout == "", run.stdout + run.stderr

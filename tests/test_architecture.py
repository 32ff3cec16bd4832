"""The package's structure: no import cycle, no module reading another's private names, small modules."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "jaxmc"
MAX_LINES = 600


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(name: str, path: pathlib.Path):
    """(imported module, imported names) for every jaxmc import of a module, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("jaxmc"):
                    yield _resolve(alias.name), []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.startswith("jaxmc"):
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    yield (full, []) if full in MODULES else (_resolve(base), [alias.name])


def _graph() -> dict[str, set[str]]:
    return {name: {m for m, _ in _imports(name, path) if m and m != name} for name, path in MODULES.items()}


def _cycles(graph) -> list[list[str]]:
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _is_package_of(pkg: str, name: str) -> bool:
    return name == pkg or name.startswith(pkg + ".")


def test_no_import_cycle():
    graph = _graph()
    # a package's __init__ re-exports its own modules; that is not a cycle of the modules themselves
    graph = {k: {m for m in v if not (_is_package_of(k, m) and MODULES[k].name == "__init__.py")}
             for k, v in graph.items()}
    assert _cycles(graph) == []


def test_no_private_names_of_other_modules():
    bad = []
    for name, path in MODULES.items():
        for module, names in _imports(name, path):
            bad += [f"{name} imports {module}.{n}" for n in names
                    if n.startswith("_") and not n.startswith("__") and module != name]
        aliases = _jaxmc_module_aliases(path)
        for node in ast.walk(ast.parse(path.read_text())):
            # `other_module._name` where other_module was imported from jaxmc
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and isinstance(node.value, ast.Name) and node.value.id in aliases:
                bad.append(f"{name} reads {node.value.id}.{node.attr}")
    assert bad == []


def _jaxmc_module_aliases(path: pathlib.Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jaxmc"):
            out |= {a.asname or a.name for a in node.names if f"{node.module}.{a.name}" in MODULES}
        elif isinstance(node, ast.Import):
            out |= {a.asname for a in node.names if a.name.startswith("jaxmc") and a.asname}
    return out


def test_modules_are_small():
    sizes = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {n: k for n, k in sizes.items() if k > MAX_LINES} == {}


def test_import_leaves_heavy_modules_alone():
    """`import jaxmc` loads neither ArviZ, xarray, pandas, matplotlib, scipy, diffrax nor PyTensor: each is
    imported where it is used (import time must stay below PyMC's)."""
    import subprocess
    import sys

    code = ("import sys, jaxmc; print(sorted(m for m in ('arviz', 'xarray', 'pandas', 'matplotlib', 'scipy', "
            "'diffrax', 'pytensor') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

"""The shape of the package: the core depends on nothing outward; the API is curated."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import typing
from pathlib import Path

import attrs

import okra_core

CORE = Path(okra_core.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_okra_core_never_imports_okra_adapters() -> None:
    offenders = {
        str(path.relative_to(CORE)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "okra_adapters"
        )
        for path in CORE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_okra_core_loads_no_adapter_cli_or_driver() -> None:
    code = (
        "import sys, okra_core; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'okra_adapters', 'click', 'psycopg'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_exported_once_and_documented() -> None:
    assert len(set(okra_core.__all__)) == len(okra_core.__all__)  # ruff (RUF022) sorts it
    for name in okra_core.__all__:
        obj = getattr(okra_core, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == "okra_core", name
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_public_methods_of_okra_are_documented() -> None:
    for name, member in inspect.getmembers(okra_core.Okra):
        if not name.startswith("_") and (
            inspect.isfunction(member) or isinstance(member, property)
        ):
            assert inspect.getdoc(member), f"Okra.{name} has no docstring"


def test_the_package_is_typed() -> None:
    assert (CORE / "py.typed").exists()
    assert (CORE.parent / "okra_adapters" / "py.typed").exists()


# --- the parts of okra_core and the direction of their imports ------------------------------

# Each part may import itself and the parts before it, never one after it.
PARTS = ("domain", "codec", "plugins", "store", "read", "app")
# Public modules beside the package's __init__, and the part each belongs to.
TOP_LEVEL = {
    "hookspecs": "plugins",
    "_public": "top",
    "testing": "top",
    "verify": "top",
    "__init__": "top",
}
MAX_MODULE_LINES = 700
MAX_CLASS_LINES = 400


def _module_name(path: Path) -> str:
    parts = ["okra_core", *path.relative_to(CORE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> set[str]:
    """The okra_core modules ``path`` imports when it runs (not under ``TYPE_CHECKING``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) in {"TYPE_CHECKING"}
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "okra_core"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != "okra_core":
                continue
            for alias in node.names:  # `from . import x` imports the module x
                candidate = f"{module}.{alias.name}"
                found.add(candidate if candidate in MODULES else module)
    return found - {name}


MODULES = {_module_name(p): p for p in CORE.rglob("*.py")}


def _part(module: str) -> str:
    rest = module.split(".")[1:]
    if not rest:
        return "top"
    return rest[0] if rest[0] in PARTS else TOP_LEVEL[rest[0]]


def test_okra_core_has_no_import_circle() -> None:
    graph = {name: _runtime_imports(path) & MODULES.keys() for name, path in MODULES.items()}
    # Implicit edges to the package __init__s are not imports a module makes.
    graph = {
        name: {m for m in deps if MODULES[m].name != "__init__.py"} for name, deps in graph.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, f"import circle: {' -> '.join([*visiting, name])}"
        visiting.append(name)
        for dep in sorted(graph[name]):
            visit(dep)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_each_part_imports_only_the_parts_before_it() -> None:
    order = {part: i for i, part in enumerate((*PARTS, "top"))}
    wrong = {
        name: sorted(
            dep for dep in _runtime_imports(path) if order[_part(dep)] > order[_part(name)]
        )
        for name, path in MODULES.items()
    }
    assert {name: deps for name, deps in wrong.items() if deps} == {}


def test_the_domain_and_the_read_side_do_no_io() -> None:
    allowed = {"attrs"} | set(sys.stdlib_module_names) - {"sqlite3", "socket", "http", "urllib"}
    for name, path in MODULES.items():
        if _part(name) in {"domain", "read"}:
            outside = {m.split(".")[0] for m in _imported_modules(path)} - allowed - {"okra_core"}
            assert not outside, f"{name} imports {sorted(outside)}"


def test_every_part_says_what_it_owns_and_may_import() -> None:
    for part in PARTS:
        doc = ast.get_docstring(ast.parse((CORE / part / "__init__.py").read_text()))
        assert doc, part
        assert "import" in doc, f"{part}'s docstring does not say what it may import"


def test_no_module_or_class_is_too_long_to_read() -> None:
    long_modules = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long_modules == {}
    long_classes = {
        f"{name}.{node.name}": node.end_lineno - node.lineno + 1
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    }
    assert long_classes == {}


def test_public_classes_keep_resolvable_type_hints() -> None:
    for name in okra_core.__all__:
        obj = getattr(okra_core, name)
        if inspect.isclass(obj):
            hints = typing.get_type_hints(obj)
            if attrs.has(obj):
                for field in attrs.fields(obj):
                    assert field.type == hints[field.name], f"{name}.{field.name}"
    for name, member in inspect.getmembers(okra_core.Okra, inspect.isfunction):
        if not name.startswith("_"):
            typing.get_type_hints(member)


def test_okras_methods_show_their_own_signature() -> None:
    okra = okra_core.Okra("memory://")
    try:
        signature = inspect.signature(okra.check_in)
        assert list(signature.parameters)[:3] == ["key_result", "value", "actor"]
        assert okra_core.Okra.check_in.__qualname__ == "Okra.check_in"
    finally:
        okra.close()

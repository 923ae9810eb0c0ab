"""The shape of the package: the core depends on nothing outward; the API is curated."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

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

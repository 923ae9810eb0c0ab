"""The documentation is tested like code.

- Every ```pycon block in ``docs/*.md`` runs as a doctest: the blocks of one file
  share one namespace and run in the order they appear.
- ``docs/events.md`` is exactly what ``python -m okra_core.codec._catalogue`` prints.
- Every event type has a docstring and a section in ``docs/events.md``.
- The examples in the public API's docstrings run.
"""

from __future__ import annotations

import copy
import doctest
import importlib
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Literal

import attrs
import pytest

import okra_core
from okra_core import CORE_EVENTS
from okra_core.codec._catalogue import REGENERATE, render_event_catalogue

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOC_FILES = sorted(DOCS.glob("*.md"))
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

_FENCE = re.compile(r"^\s*```")


def pycon_source(text: str) -> str:
    """Keep only the lines inside ```pycon blocks; blank out the rest.

    Blanking (rather than dropping) keeps every line where it was, so the line
    numbers in a failure report are those of the Markdown file. The blank line left
    by a closing fence ends the expected output of the block's last example.
    """
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        if not inside and line.strip() == "```pycon":
            inside = True
            kept.append("")
        elif inside and _FENCE.match(line):
            inside = False
            kept.append("")
        else:
            kept.append(line if inside else "")
    assert not inside, "a ```pycon block is not closed"
    return "\n".join(kept) + "\n"


def run_doctest(test: doctest.DocTest) -> None:
    """Run one doctest and fail with the runner's report if any example fails."""
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    result = runner.run(test, out=report.append, clear_globs=False)
    if result.failed:
        pytest.fail(
            f"{result.failed} of {result.attempted} examples failed in {test.name}:\n"
            + "".join(report),
            pytrace=False,
        )


# --- the guides -----------------------------------------------------------------------


def test_there_are_docs() -> None:
    assert {"concepts.md", "events.md", "getting-started.md"} <= {p.name for p in DOC_FILES}


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_pycon_examples_run(path: Path) -> None:
    source = pycon_source(path.read_text(encoding="utf-8"))
    test = doctest.DocTestParser().get_doctest(
        source, {"__name__": "__main__"}, path.name, str(path), 0
    )
    run_doctest(test)


def test_pycon_source_keeps_line_numbers() -> None:
    text = "intro\n```pycon\n>>> 1 + 1\n2\n```\nprose\n```python\n>>> 'not run'\n```\n"
    source = pycon_source(text)
    assert source.splitlines() == ["", "", ">>> 1 + 1", "2", "", "", "", "", ""]
    (example,) = doctest.DocTestParser().get_examples(source)
    assert example.lineno == 2  # 0-based: the third line of the file


# --- the event catalogue -----------------------------------------------------------------


def test_event_catalogue_is_up_to_date() -> None:
    path = DOCS / "events.md"
    expected = render_event_catalogue()
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    assert actual == expected, (
        f"docs/events.md is out of date with the event classes; regenerate it with:\n"
        f"    {REGENERATE}"
    )


@pytest.mark.parametrize("cls", list(CORE_EVENTS), ids=lambda cls: cls.wire_name)
def test_every_event_is_documented(cls: type[okra_core.Event]) -> None:
    doc = cls.__dict__.get("__doc__")
    assert isinstance(doc, str), f"{cls.__qualname__} has no docstring of its own"
    assert doc.strip(), f"{cls.__qualname__} has an empty docstring"
    catalogue = (DOCS / "events.md").read_text(encoding="utf-8")
    assert f"### `{cls.wire_name}`" in catalogue, f"{cls.wire_name} is missing from docs/events.md"
    assert f"`okra_core.{cls.__qualname__}`" in catalogue


def test_catalogue_lists_plugin_events_too() -> None:
    @attrs.frozen(kw_only=True)
    class SprintPlanned(okra_core.Event):
        """A plugin's own fact, about an entity okra does not know."""

        wire_name = "acme.sprint.planned"
        goal: str
        length_days: int | None = None

    registry = CORE_EVENTS.copy()
    registry.register(SprintPlanned)
    page = render_event_catalogue(registry)
    assert page.startswith(render_event_catalogue().split("## Contents")[0])
    assert "## Sprint events" in page
    assert "### `acme.sprint.planned`" in page
    assert "| `length_days` | `int \\| None` | `None` |" in page
    assert "A plugin's own fact" in page


# --- docstrings of the public API -----------------------------------------------------------

DOCSTRING_MODULES = (
    "okra_core.app._okra",
    "okra_core.domain._metrics",
    "okra_core.domain._values",
    "okra_core.domain._clock",
    "okra_core.codec._codec",
    "okra_core.codec._catalogue",
    "okra_core.verify",
    "okra_core",
)

# Examples known to fail because of a bug in src/, each with the reason. The
# xfail is strict: once the docstring is fixed, remove its entry here.
KNOWN_BROKEN: dict[str, str] = {}


def find_docstring_tests() -> dict[str, doctest.DocTest]:
    """Every docstring example of the modules above, by name.

    okra_core re-exports its classes under its own name (their ``__module__`` is
    set to ``okra_core``), which hides their methods from a finder working module
    by module: a method's module is the private one, its class's is not. So the
    re-exported classes are searched one by one, in the module that defines them
    (for the file and line numbers of a failure report), and their examples run in
    the namespace of ``okra_core``, where readers meet them. Everything else runs
    in the namespace of the module that defines it.
    """
    finder = doctest.DocTestFinder()
    tests: dict[str, doctest.DocTest] = {}
    modules = [importlib.import_module(name) for name in DOCSTRING_MODULES]
    public = vars(okra_core)
    for name in okra_core.__all__:
        obj = public[name]
        if inspect.isclass(obj) and obj.__module__ == okra_core.__name__:
            home = defining_module(name, obj)
            for test in finder.find(obj, f"okra_core.{name}", module=home, globs=public):
                tests.setdefault(test.name, test)
    for module in modules:
        for test in finder.find(module, module.__name__):
            tests.setdefault(test.name, test)
    return {name: test for name, test in tests.items() if test.examples}


def defining_module(name: str, obj: object) -> ModuleType | Literal[False]:
    """The private okra_core module that defines ``obj`` (lists it in ``__all__``)."""
    for module_name, module in sorted(sys.modules.items()):
        if (
            module_name.startswith("okra_core._")
            and name in getattr(module, "__all__", ())
            and getattr(module, name, None) is obj
        ):
            return module
    return False  # unknown: let the finder look at every member of the class


DOCSTRING_TESTS = find_docstring_tests()


def test_docstring_examples_are_found() -> None:
    # A guard against the finder silently finding nothing.
    expected = {"okra_core", "okra_core.Change", "okra_core.ManualClock", "okra_core.Okra"}
    assert expected <= set(DOCSTRING_TESTS)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_BROKEN[name], strict=True))
        if name in KNOWN_BROKEN
        else name
        for name in sorted(DOCSTRING_TESTS)
    ],
)
def test_docstring_examples_run(name: str) -> None:
    test = copy.copy(DOCSTRING_TESTS[name])
    test.globs = dict(test.globs)  # each run starts from the module's namespace
    run_doctest(test)

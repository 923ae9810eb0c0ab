"""The installed distributions' entry points and versions, read without ``importlib.metadata``.

Importing ``importlib.metadata`` (email parsing, zip files, pathlib and more)
costs more than every other step of finding okra's plugins together, and every
``okra`` command finds them. Installed distributions are folders on
``sys.path`` (``name-version.dist-info``, or ``.egg-info``) holding an
``entry_points.txt``, so in the usual case this module reads those files
itself, in the order and with the precedence ``importlib.metadata`` gives them:
each ``sys.path`` entry in turn, one distribution per normalised name (the
first found wins). Where that lookup could differ (a zip or egg on the path, or
an import hook that finds distributions of its own) it asks
``importlib.metadata`` instead.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import attrs

__all__ = ["EntryPoint", "entry_points", "version"]

_INFO = (".dist-info", ".egg-info")
_SEPARATORS = re.compile(r"[-_.]+")


@attrs.frozen
class EntryPoint:
    """One entry point: its name, its ``module:attribute`` value, and where it comes from."""

    name: str
    value: str
    package: str  #: the distribution's name (``?`` if its metadata has none)
    version: str  #: the distribution's version (``?`` likewise)

    def load(self) -> Any:
        """Import the module the value names and return the attribute (or the module)."""
        target = self.value.partition("[")[0]  # extras are not okra's business
        module, _, attribute = (part.strip() for part in target.partition(":"))
        loaded = importlib.import_module(module)
        return functools.reduce(getattr, filter(None, attribute.split(".")), loaded)


def entry_points(group: str) -> list[EntryPoint]:
    """The entry points of ``group`` of every installed distribution, as importlib finds them."""
    if not _plain_path():
        return _from_importlib(group)
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for root in sys.path:
        for name, folder in _infos(root or "."):
            if name in seen:
                continue
            seen.add(name)
            found += _read(folder, group)
    return found


def version(distribution: str) -> str | None:
    """The version of the installed ``distribution``, as ``importlib.metadata`` finds it.

    None if it is not installed (or its metadata has no version).
    """
    if not _plain_path():
        import importlib.metadata  # costly: only when the path needs it

        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None
    wanted = _normalize(distribution)
    for root in sys.path:
        for name, folder in _infos(root or "."):
            if name == wanted:
                return _headers(folder).get("version")
    return None


def _plain_path() -> bool:
    """True if every distribution lives in a folder on ``sys.path`` (no zips, eggs or hooks)."""
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and finder is not importlib.machinery.PathFinder:
            return False
    for root in sys.path:
        if not isinstance(root, str) or root.lower().endswith(".egg"):
            return False
        if root and os.path.exists(root) and not os.path.isdir(root):
            return False  # a zip
    return True


def _normalize(name: str) -> str:
    """PEP 503 normalisation with underscores, as ``importlib.metadata`` keys distributions."""
    return _SEPARATORS.sub("_", name).lower()


def _infos(root: str) -> Iterator[tuple[str, str]]:
    """``(normalised name, metadata folder)`` of each distribution in ``root``."""
    try:
        children = os.listdir(root)
    except OSError:
        return
    first: dict[str, str] = {}  # importlib keeps the first of each name, in listing order
    for child in children:
        low = child.lower()
        if low.endswith(_INFO):
            name = _normalize(low.rpartition(".")[0].partition("-")[0])
            first.setdefault(name, os.path.join(root, child))
    yield from first.items()


def _text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except OSError:
        return None


def _read(folder: str, group: str) -> list[EntryPoint]:
    """The entry points of ``group`` in one distribution's metadata folder."""
    text = _text(os.path.join(folder, "entry_points.txt"))
    if not text:
        return []
    pairs: list[tuple[str, str]] = []
    section = None
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    if not pairs:
        return []
    headers = _headers(folder)
    package, version = headers.get("name", "?"), headers.get("version", "?")
    return [EntryPoint(name, value, package, version) for name, value in pairs]


def _headers(folder: str) -> dict[str, str]:
    """The headers of a distribution's METADATA (or PKG-INFO), by lower-case name."""
    text = _text(os.path.join(folder, "METADATA")) or _text(os.path.join(folder, "PKG-INFO"))
    headers: dict[str, str] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line; the description follows
        key, sep, value = line.partition(":")
        if sep and not line[0].isspace():
            headers.setdefault(key.strip().lower(), value.strip())
    return headers


def _from_importlib(group: str) -> list[EntryPoint]:
    import importlib.metadata  # costly: only when the path needs it

    found: list[EntryPoint] = []
    for ep in importlib.metadata.entry_points(group=group):
        dist = ep.dist
        found.append(
            EntryPoint(ep.name, ep.value, dist.name if dist else "?", dist.version if dist else "?")
        )
    return found

"""The quick decoder: well-formed, current records straight into events.

Replaying a log decodes every event, and almost every record is well formed and
of the current schema. For each event type this builds, once, a small function
(compiled from generated source, one line per field) that takes exactly such
records: plain JSON types, exactly as the strict converter wants them, no extra
or missing field. For anything else it answers None and the strict converter
decides, with its messages; so the quick path never accepts what the strict
one refuses, and never gives a different event (a property test holds both).

Entity ids and instants repeat across a log (an entity's id is in each of its
events, a check-in names its key result; a team records its check-ins in the
same hours), so both are parsed once per distinct text and the immutable result
reused, from bounded caches; the ids of new things (a check-in's own) are not
remembered. The same generated-source approach gives the exact-event check of
an import and the quick structurer of saved check-ins.
"""

from __future__ import annotations

import enum
import math
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from types import UnionType
from typing import Any, Final, TypeVar, get_args, get_origin
from uuid import UUID, SafeUUID

import attrs
import cattrs

from ..domain._events import Event

__all__ = [
    "SCHEMA_KEY",
    "FastStructure",
    "entity_uuid",
    "exact_checker",
    "fast_structurer",
    "fast_uuid",
    "value_structurer",
]

T = TypeVar("T")

SCHEMA_KEY: Final = "_schema"
_ORIGIN: Final = ("originator_id", "originator_version")

FastStructure = Callable[[dict[str, Any], UUID, int], Event | None]
"""``structure(fields, originator_id, version) -> event``, or None to ask the strict path."""


class _Unusual(Exception):
    """A value the quick path does not take as it is: the strict converter decides."""


Step = tuple[str, Any]
"""A field's name and its check: a type's name checked inline, or a converter to call."""


def fast_structurer(converter: cattrs.Converter, cls: type[Event]) -> FastStructure | None:
    """The quick decoder of ``cls``; None if it cannot have one (the strict path decodes).

    Fields of types this does not know (metrics, settings) go through the
    converter's own hook for them, which raises on anything wrong.
    """
    steps = _steps(converter, cls, skip=_ORIGIN)
    if steps is None:
        return None
    structure: FastStructure = _compile(cls, *steps, event=True)
    return structure


def value_structurer(
    converter: cattrs.Converter, cls: type[T]
) -> Callable[[dict[str, Any]], T | None] | None:
    """A quick structurer of an attrs value class, such as a check-in in a saved state.

    Like :func:`fast_structurer`: ``structure(fields)`` gives the value, or None
    and the strict converter decides.
    """
    steps = _steps(converter, cls, skip=())
    if steps is None:
        return None
    structure: Callable[[dict[str, Any]], T | None] = _compile(cls, *steps, event=False)
    return structure


def _steps(
    converter: cattrs.Converter, cls: type, *, skip: tuple[str, ...]
) -> tuple[list[Step], list[Step]] | None:
    """The required and the optional fields of ``cls`` and how to take each."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a plugin's annotations that cannot be resolved
        return None
    required: list[Step] = []
    optional: list[Step] = []
    for field in attrs.fields(cls):
        if field.name in skip:
            continue
        if not field.init or field.alias != field.name or not field.name.isidentifier():
            return None
        hint = hints[field.name]
        if hint is UUID and field.name not in _OWN_IDS:
            step: Step = (field.name, entity_uuid)  # a reference: the same id again and again
        else:
            step = (field.name, _plan(converter, hint))
        (required if field.default is attrs.NOTHING else optional).append(step)
    return required, optional


# Fields holding the id of the thing itself (new each time: not worth remembering).
_OWN_IDS: Final = frozenset({"id", "check_in_id", "task_id"})

# Checked in the generated code itself, without a call: the commonest fields.
_INLINE: Final = {str: "str", int: "int", bool: "bool", float: "float"}


def _plan(converter: cattrs.Converter, hint: Any) -> Any:
    """How the generated code takes a field of type ``hint``.

    A type's name to check inline; ``(None, plan)`` for ``X | None``;
    ``(hook, hint)`` for a converter hook of the strict converter; or a function.
    """
    inline = _INLINE.get(hint)
    if inline is not None:
        return inline
    args = get_args(hint)
    if len(args) == 2 and type(None) in args and get_origin(hint) in (typing.Union, UnionType):
        return (None, _plan(converter, next(a for a in args if a is not type(None))))
    simple = _SIMPLE.get(hint)
    if simple is not None:
        return simple
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _member_of(hint)
    return (converter.get_structure_hook(hint), hint)


def _check(plan: Any, var: str, names: dict[str, Any]) -> list[str]:
    """The lines that check (and convert) the value in ``var`` in place, by ``plan``."""
    if plan == "float":
        return [
            f"if type({var}) is not float:",
            f"    if type({var}) is not int: return None",
            f"    {var} = float({var})",
            f"elif not isfinite({var}): return None",
        ]
    if isinstance(plan, str):
        return [f"if type({var}) is not {plan}: return None"]
    name = f"c{len(names)}"
    if isinstance(plan, tuple) and plan[0] is None:
        inner = _check(plan[1], var, names)
        return [f"if {var} is not None:", *(f"    {line}" for line in inner)]
    if isinstance(plan, tuple):
        names[name], names[f"h{name}"] = plan
        return [f"{var} = {name}({var}, h{name})"]
    names[name] = plan
    return [f"{var} = {name}({var})"]


def _compile(cls: type, required: list[Step], optional: list[Step], *, event: bool) -> Any:
    # The generated function, for a type with a text field a and an optional field b:
    #     def structure(data, originator_id, version):
    #         extra = len(data) - 1
    #         <the schema key, if any, checked and not counted>
    #         try:
    #             v0 = data["a"]
    #             if type(v0) is not str: return None
    #             kw = {}
    #             if "b" in data:
    #                 v1 = c1(data["b"]); kw["b"] = v1; extra -= 1
    #             if extra: return None          # a key no field has
    #             return cls(originator_id=originator_id, originator_version=version, a=v0, **kw)
    #         except Exception:
    #             return None
    names: dict[str, Any] = {"cls": cls, "isfinite": math.isfinite}
    schema: int = getattr(cls, "schema_version", 1)
    body = [f"extra = len(data) - {len(required)}"]
    if not event:
        pass  # values have no schema of their own: their event's or state's covers them
    elif schema == 1:
        body += [
            f"if {SCHEMA_KEY!r} in data:",
            f"    schema = data[{SCHEMA_KEY!r}]",
            "    if type(schema) is not int or schema != 1: return None",
            "    extra -= 1",
        ]
    else:  # a record without the key is older: upcasters bring it up to date
        names["SCHEMA"] = schema
        body += [
            f"schema = data.get({SCHEMA_KEY!r})",
            "if type(schema) is not int or schema != SCHEMA: return None",
            "extra -= 1",
        ]
    body.append("try:")
    arguments = ["originator_id=originator_id", "originator_version=version"] if event else []
    for index, (name, step) in enumerate(required):
        body.append(f"    v{index} = data[{name!r}]")
        body += [f"    {line}" for line in _check(step, f"v{index}", names)]
        arguments.append(f"{name}=v{index}")
    if optional:
        body.append("    kw = {}")
        for index, (name, step) in enumerate(optional, start=len(required)):
            body += [f"    if {name!r} in data:", f"        v{index} = data[{name!r}]"]
            body += [f"        {line}" for line in _check(step, f"v{index}", names)]
            body += [f"        kw[{name!r}] = v{index}", "        extra -= 1"]
        arguments.append("**kw")
    body += [
        "    if extra: return None",
        f"    return cls({', '.join(arguments)})",
        "except Exception:  # anything odd: the strict path says what",
        "    return None",
    ]
    signature = "data, originator_id, version" if event else "data"
    source = f"def structure({signature}):\n" + "".join(f"    {line}\n" for line in body)
    code = compile(source, f"<okra quick decoder of {cls.__qualname__}>", "exec")
    exec(code, names)  # the source is built above, from field names that are identifiers
    return names["structure"]


def _member_of(cls: type[enum.Enum]) -> Callable[[Any], Any]:
    members = cls._value2member_map_

    def member(value: Any) -> Any:
        found = members[value]
        if type(value) is not type(found._value_):  # True is not 1, nor 1 1.0
            raise _Unusual
        return found

    return member


# Bounded: a long replay holds at most this many distinct texts of each kind.
_CACHE_SIZE: Final = 1 << 16
_uuids: dict[str, UUID] = {}
_instants: dict[str, datetime] = {}
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = SafeUUID.unknown


def fast_uuid(value: Any) -> UUID:
    """A UUID from either canonical text: 36 characters with hyphens, or 32 hex digits.

    ``UUID(text)`` accepts braces, a ``urn:uuid:`` prefix and hyphens anywhere,
    and costs more than the rest of decoding a check-in; this takes only the
    forms okra and eventsourcing write (events hold the first, SQLite's
    ``originator_id`` column the second) and builds the UUID from its integer.

    Raises:
        _Unusual: any other value (the strict path then decides).
    """
    if type(value) is not str:
        raise _Unusual
    if len(value) == 36:
        if value[8] != "-" or value[13] != "-" or value[18] != "-" or value[23] != "-":
            raise _Unusual
        digits = value.replace("-", "")
    elif len(value) == 32:
        digits = value
    else:
        raise _Unusual
    # int() would also take "_", "+" and spaces: only letters and digits pass.
    if len(digits) != 32 or not digits.isascii() or not digits.isalnum():
        raise _Unusual
    made = _new(UUID)
    _set(made, "int", int(digits, 16))  # raises ValueError for a letter past f
    _set(made, "is_safe", _UNKNOWN)
    return made


def entity_uuid(value: Any) -> UUID:
    """:func:`fast_uuid` for an entity's id, remembered: each is in all its entity's events."""
    found = _uuids.get(value)
    if found is None:
        found = fast_uuid(value)
        if len(_uuids) >= _CACHE_SIZE:
            _uuids.clear()
        _uuids[value] = found
    return found


# The years the strict path takes (domain/_clock.py): the quick one must not take more.
_FIRST_YEAR, _LAST_YEAR = 1900, 2200


def _fast_datetime(value: Any) -> datetime:
    found = _instants.get(value)
    if found is not None:
        return found
    if type(value) is not str:
        raise _Unusual
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not UTC:
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise _Unusual
        parsed = parsed.astimezone(UTC)
    if not _FIRST_YEAR <= parsed.year <= _LAST_YEAR:
        raise _Unusual
    if len(_instants) >= _CACHE_SIZE:
        _instants.clear()
    _instants[value] = parsed
    return parsed


_SIMPLE: Final[dict[Any, Callable[[Any], Any]]] = {
    UUID: fast_uuid,
    datetime: _fast_datetime,
}


# --- events exactly as decoding makes them ---------------------------------------------


def exact_checker(cls: type) -> Callable[[Any], bool] | None:
    """Whether an object of attrs class ``cls`` is exactly as decoding would make it.

    Compiled from generated source, one test per field, like the quick decoder:
    an import checks each of its events so. None if some field's type is not one
    this knows (the caller round-trips those).
    """
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # annotations that cannot be resolved
        return None
    names: dict[str, Any] = {
        "cls": cls,
        "isfinite": math.isfinite,
        "UTC": UTC,
        "datetime": datetime,
    }
    tests = ["type(v) is cls"]
    for field in attrs.fields(cls):
        if not field.name.isidentifier():
            return None
        test = _exact_test(hints[field.name], f"v.{field.name}", names)
        if test is None:
            return None
        tests.append(test)
    source = "def exact(v):\n    return " + " and ".join(f"({t})" for t in tests) + "\n"
    exec(compile(source, f"<okra exact check of {cls.__qualname__}>", "exec"), names)
    exact: Callable[[Any], bool] = names["exact"]
    return exact


def _exact_test(hint: Any, expr: str, names: dict[str, Any]) -> str | None:
    """An expression true when ``expr`` (of type ``hint``) survives encoding and decoding."""
    if hint is float:
        return f"type({expr}) is float and isfinite({expr})"
    if hint is datetime:
        return f"type({expr}) is datetime and {expr}.tzinfo is UTC"
    if hint is type(None):
        return f"{expr} is None"
    if hint in (str, int, bool, UUID) or (isinstance(hint, type) and issubclass(hint, enum.Enum)):
        name = f"t{len(names)}"
        names[name] = hint
        return f"type({expr}) is {name}"
    if isinstance(hint, type) and attrs.has(hint):
        nested = exact_checker(hint)
        if nested is None:
            return None
        name = f"c{len(names)}"
        names[name] = nested
        return f"{name}({expr})"
    args = get_args(hint)
    if get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _exact_test(args[0], "i", names)
        return None if item is None else f"type({expr}) is tuple and all({item} for i in {expr})"
    if args and get_origin(hint) in (typing.Union, UnionType):
        options = [_exact_test(arg, expr, names) for arg in args]
        if any(option is None for option in options):
            return None
        return " or ".join(f"({option})" for option in options)
    return None

"""Reading the JSON API's bodies strictly: each field the JSON type its schema names.

A form sends text for everything, so the forms' reader (``_commands``) turns
text into numbers. JSON has types of its own, and a client that sends
``{"value": "12"}`` has a bug worth hearing about: the API refuses it, as the
Python API does, instead of guessing. Each field of a write is checked against
its endpoint's schema (the same one the OpenAPI document shows): a number must be
a JSON number (not ``true``), and finite (``NaN``, ``Infinity`` and ``1e309``,
which Python's JSON reader turns into floats, are refused); a text a JSON string;
a list a JSON array of the items named. Every wrong field is named in one 422,
before anything is written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from okra_core import FieldError, ValidationError

__all__ = ["check_body", "json_type"]


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _expected(schema: Mapping[str, Any]) -> str:
    if "oneOf" in schema:
        return " or ".join(_expected(s) for s in schema["oneOf"])
    kind = str(schema.get("type", "value"))
    if kind == "array":
        return f"an array of {_expected(schema.get('items', {}))}s"
    return {"number": "a finite number", "integer": "an integer"}.get(kind, f"a {kind}")


def _fits(schema: Mapping[str, Any], value: object) -> bool:
    if "oneOf" in schema:
        return any(_fits(s, value) for s in schema["oneOf"])
    kind = schema.get("type")
    if kind == "number":
        return json_type(value) == "number" and _finite(value)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "array":
        items = schema.get("items", {})
        return isinstance(value, list) and all(_fits(items, item) for item in value)
    return kind is None or json_type(value) == kind


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def check_body(body: Mapping[str, Any], properties: Mapping[str, Any]) -> None:
    """Refuse a body whose known fields have the wrong JSON type.

    Unknown fields are named too, when something else is wrong (else the command
    names them, with its own findings).

    Raises:
        ValidationError: naming every field whose value does not fit its schema.
    """
    errors = [
        FieldError(
            name,
            f"expected {_expected(properties[name])}, got {_shown(value)}",
        )
        for name, value in body.items()
        if name in properties and not _fits(properties[name], value)
    ]
    if errors:
        known = ", ".join(sorted(properties))
        errors += [
            FieldError(name, f"unknown field; expected one of {known}")
            for name in body
            if name not in properties
        ]
        raise ValidationError(errors)


def _shown(value: object) -> str:
    """What a parsed value was, in JSON's words: ``null``, ``true``, ``the string "12"``."""
    if value is None or isinstance(value, bool | int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "NaN" if math.isnan(value) else "a number out of range (Infinity)"
        text = json.dumps(value)
        return text if len(text) <= 40 else "a number out of range"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return f"the string {text if len(text) <= 40 else text[:40] + '...'}"
    return "an array" if isinstance(value, list) else "an object"

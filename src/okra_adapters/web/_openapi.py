"""The OpenAPI 3.1 document of the JSON API, made from :data:`ENDPOINTS`."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["SCHEMAS", "openapi", "openapi_endpoint"]

_ENTITY = {
    "type": "object",
    "required": ["kind", "id", "version"],
    "properties": {
        "kind": {"type": "string"},
        "id": {"type": "string", "format": "uuid"},
        "version": {"type": "integer"},
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Object": {"type": "object"},
    "List": {"type": "array", "items": {"type": "object"}},
    "Entity": _ENTITY,
    "CheckIn": {
        "type": "object",
        "required": ["id", "key_result_id", "value", "effective_at", "actor"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "key_result_id": {"type": "string", "format": "uuid"},
            "value": {"type": "number"},
            "effective_at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"},
            "warnings": {
                "type": "array",
                "items": {"type": "string"},
                "description": "what looks wrong about a check-in just recorded "
                "(dated outside its cycle, a value its metric can hardly mean); "
                "it was recorded all the same",
            },
        },
    },
    "Task": {
        "type": "object",
        "required": ["id", "action_id", "title", "done"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "action_id": {"type": "string", "format": "uuid"},
            "title": {"type": "string"},
            "done": {"type": "boolean"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "fields"],
        "properties": {
            "error": {"type": "string"},
            "fields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "message"],
                    "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
}
"""The response schemas the endpoints name."""


def _ref(schema: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _instant(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"{what}: a date (the end of that day) or an ISO 8601 instant",
        "schema": {"type": "string"},
    }


def openapi() -> dict[str, Any]:
    """The document, as plain data."""
    from ._api import ENDPOINTS

    paths: dict[str, dict[str, Any]] = {}
    for spec in ENDPOINTS:
        parameters: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": "an id, its first 4+ hex digits, or a title",
                "schema": {"type": "string"},
            }
            for name in re.findall(r"{(\w+)}", spec.path)
        ]
        parameters += [
            {"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
            for q in spec.query
        ]
        responses: dict[str, Any] = {
            str(spec.status): {
                "description": "done" if spec.writes else "the data",
                "content": {"application/json": {"schema": _ref(spec.answer)}},
            },
            "404": _error("nothing matches the reference"),
            "409": _error("ambiguous reference, or the rules refuse it now"),
            "422": _error("a value was refused; fields names each"),
        }
        operation: dict[str, Any] = {
            "operationId": spec.name,
            "summary": spec.summary,
            "parameters": parameters,
            "responses": responses,
        }
        if spec.writes:
            operation["security"] = [{"bearer": []}]
            responses["400"] = _error("the body is not JSON")
            responses["401"] = _error("no token, or an unknown or revoked one")
            responses["403"] = _error("the token's actor may not do this")
            if spec.body:
                operation["requestBody"] = {
                    "required": bool(spec.required),
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": dict(spec.body),
                                "required": list(spec.required),
                                "additionalProperties": False,
                            }
                        }
                    },
                }
        else:
            parameters += [
                _instant("as_of", "the state at this instant, with all known now"),
                _instant("as_known_at", "only what had been recorded by this instant"),
            ]
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "okra",
            "version": "1",
            "description": "Objectives, key results and actions: read progress, write "
            "check-ins, actions and tasks. Writes need a bearer token from "
            "`okra token create`.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


async def openapi_endpoint(request: Request) -> JSONResponse:
    """``GET /api/openapi.json``."""
    return JSONResponse(openapi())

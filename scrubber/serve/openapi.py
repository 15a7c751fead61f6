"""The OpenAPI 3.1 description of ``scrubber serve``, written to the ``openapi.json`` checked in beside it.

``python -m scrubber.serve.openapi > scrubber/serve/openapi.json`` after changing a route; a test fails while
the checked-in file differs from :func:`document`.  The report's schema is ``report.schema.json``, its references
made to point where it is placed; every response of the server's tests is validated
against this document.
"""

from __future__ import annotations

import json
from typing import Any

from scrubber.schema import report_schema
from scrubber.serve.work import ACK_KINDS, FORMATS

#: The API's version (the path's ``/v1``); the package version is in ``/healthz``.
API_VERSION = "1.0.0"
_JSON = "application/json"


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "scrubber serve",
            "version": API_VERSION,
            "summary": "X12 837P (005010X222A1) claim checks over HTTP: implementation guide, payer rules,"
                       " 999/277CA/TA1.",
            "description": "The checks of 'scrubber check', one request each. docs/serve.md shows every route"
                           " with curl. When the server is started with --api-keys, the /v1 routes ask for a key"
                           " (Authorization: Bearer KEY, or X-API-Key: KEY).",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "http://127.0.0.1:8837", "description": "the default --bind"}],
        "security": [{}],
        "paths": {
            "/v1/check": {"post": _check()},
            "/v1/rules": {"get": {
                "operationId": "listRules", "summary": "The rule catalogue, as 'scrubber rules --format json'",
                "security": [{}, {"bearer": []}, {"apiKey": []}],
                "responses": {"200": _json("Every rule, with how each payer profile runs it",
                                           {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}}),
                              "401": _error("No key, or a wrong one, where the server asks for keys")},
            }},
            "/v1/rules/{code}": {"get": {
                "operationId": "getRule", "summary": "One rule, as 'scrubber rules CODE --format json'",
                "security": [{}, {"bearer": []}, {"apiKey": []}],
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": "A rule code (WB001); case does not matter"}],
                "responses": {"200": _json("The rule", {"$ref": "#/components/schemas/Rule"}),
                              "401": _error("No key, or a wrong one, where the server asks for keys"),
                              "404": _error("No rule has that code")},
            }},
            "/healthz": _get("health", "Whether the server answers, and its load",
                             _json("It answers", {"$ref": "#/components/schemas/Health"})),
            "/metrics": _get("metrics", "Prometheus metrics (requests, seconds, claims, pending checks)",
                             _text("The Prometheus text format", "text/plain")),
            "/openapi.json": _get("openapi", "This document", _json("The OpenAPI document", {"type": "object"})),
            "/": _get("uploadPage", "A page to drop an 837P file on and read its HTML report",
                      _text("The page", "text/html")),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "schemas": {
                "Report": _in_components(report_schema(), "#/components/schemas/Report"),
                "Error": {
                    "type": "object", "required": ["error", "message"], "additionalProperties": False,
                    "properties": {
                        "error": {"type": "string", "description": "What kind: not-x12, unsupported, truncated,"
                                  " bad-parameter, too-large, busy, timeout, unauthorized, ..."},
                        "message": {"type": "string", "description": "One line; for a file that is not a readable"
                                    " 837P, the reason 'scrubber check' gives"},
                    },
                },
                "Health": {
                    "type": "object", "required": ["status", "version", "workers", "pending", "max_pending"],
                    "additionalProperties": False,
                    "properties": {"status": {"const": "ok"}, "version": {"type": "string"},
                                   "workers": {"type": "integer", "minimum": 1},
                                   "pending": {"type": "integer", "minimum": 0},
                                   "max_pending": {"type": "integer", "minimum": 1}},
                },
                "Rule": _rule(),
            },
        },
    }


def _check() -> dict[str, Any]:
    return {
        "operationId": "check",
        "summary": "Check one 837P file, as 'scrubber check --format json' (or html, csv)",
        "description": "A file the rules or the implementation guide reject is still a 200: the report says"
                       " why (X-Scrubber-Status: accepted, partial or rejected). Input that is not a readable"
                       " 837P is a 400 with the reason 'scrubber check' gives.",
        "security": [{}, {"bearer": []}, {"apiKey": []}],
        "parameters": [
            _query("format", {"enum": list(FORMATS), "default": "json"}, "The report's format"),
            _query("acks", {"type": "string", "pattern": "^(999|277ca|ta1)(,(999|277ca|ta1))*$"},
                   f"Acknowledgments to add to the JSON report, comma-separated: {', '.join(ACK_KINDS)}"),
            _query("now", {"type": "string"}, "Processing time, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]"
                   " (default: the server's clock, to the minute)"),
            _query("control_start", {"type": "integer", "minimum": 1, "maximum": 999999999},
                   "First acknowledgment control number (default: YYDDDHHMM of now)"),
            _query("profile", {"type": "string"}, "Use this payer profile for every claim"),
            _query("redact", {"type": "boolean", "default": False},
                   "Placeholders for patient and subscriber PHI in the report"),
            _query("name", {"type": "string", "default": "upload"}, "The file name the report shows"),
        ],
        "requestBody": {
            "required": True, "description": "The X12 837P, as it is in its file",
            "content": {media: {"schema": {"type": "string", "format": "binary"}}
                        for media in ("application/edi-x12", "text/plain", "application/octet-stream")},
        },
        "responses": {
            "200": {
                "description": "The report",
                "headers": {"X-Scrubber-Status": {"description": "The file's status",
                                                  "schema": {"enum": ["accepted", "partial", "rejected"]}}},
                "content": {
                    _JSON: {"schema": {"$ref": "#/components/schemas/Report"}},
                    "text/html": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            "400": _error("Not X12, not an 837P, cut short, or a bad query parameter"),
            "401": _error("No key, or a wrong one, where the server asks for keys"),
            "413": _error("The body is larger than the server's --max-bytes"),
            "415": _error("The body's media type is not application/edi-x12, text/plain or"
                          " application/octet-stream"),
            "500": _error("The check failed inside the server (a rule's bug, a worker that died)"),
            "503": {**_error("Busy (with Retry-After), or the check ran past the server's --time-limit"),
                    "headers": {"Retry-After": {"description": "Seconds to wait, when busy",
                                                "schema": {"type": "integer"}}}},
        },
    }


def _rule() -> dict[str, Any]:
    nullable = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["code", "name", "summary", "severity", "stc", "stc10", "origin", "needs_history", "fix",
                     "field", "snip_type", "options", "profiles"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "summary": {"type": "string"},
            "severity": {"enum": ["error", "warning", "info"]}, "stc": nullable, "stc10": nullable,
            "origin": {"type": "string"}, "needs_history": {"type": "boolean"}, "fix": {"type": "string"},
            "field": nullable, "snip_type": {"type": ["integer", "null"]},
            "options": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["kind", "default", "help"], "additionalProperties": False,
                "properties": {"kind": {"type": "string"}, "default": {}, "help": {"type": "string"}}}},
            "profiles": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["enabled"], "additionalProperties": False,
                "properties": {"enabled": {"type": "boolean"}, "severity": {"enum": ["error", "warning", "info"]},
                               "options": {"type": "object"}}}},
        },
    }


def _in_components(schema: Any, at: str) -> Any:
    """``schema`` placed at ``at`` of this document: its own references (``#/$defs/...``) made to point there, its
    ``$id`` and ``$schema`` left out (OpenAPI tools resolve references from the document's root)."""
    if isinstance(schema, dict):
        return {key: (at + value[1:] if key == "$ref" and isinstance(value, str) and value.startswith("#/")
                      else _in_components(value, at))
                for key, value in schema.items() if key not in ("$id", "$schema")}
    if isinstance(schema, list):
        return [_in_components(item, at) for item in schema]
    return schema


def _get(operation: str, summary: str, ok: dict[str, Any]) -> dict[str, Any]:
    """An open GET route that answers 200 only."""
    return {"get": {"operationId": operation, "summary": summary, "responses": {"200": ok}}}


def _text(description: str, media: str) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(description, {"$ref": "#/components/schemas/Error"})


def text() -> str:
    """The document as the checked-in file holds it."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(text(), end="")

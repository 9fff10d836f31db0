"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json and checked against the API in the tests."""

from __future__ import annotations

from functools import cache
from typing import Any

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_LINK = {"type": "object", "required": ["href"], "properties": {"href": {"type": "string", "format": "uri"}},
         "additionalProperties": False}
_SLUG = {"name": "slug", "in": "path", "required": True, "description": "The campaign's address on the site.",
         "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def _ok(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _PROBLEM for code in codes}


_MOVED = {"description": "The campaign was renamed: the same resource at its current address (Location).",
          "headers": {"Location": {"schema": {"type": "string"}}}}
_NOT_MODIFIED = {"description": "Unchanged since the ETag given in If-None-Match."}


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Petitions public read API",
            "version": "1.0.0",
            "description": (
                "Public campaigns and their signature counts. Read-only; no personal data about any signer. "
                "Every answer may be read from any site (CORS, without credentials), carries an ETag and "
                "Cache-Control, and is rate-limited per client (429 with Retry-After). Errors are RFC 9457 "
                "problem documents. Campaign resources follow the shape of the OSDI petition resource."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/campaigns": {
                "get": {
                    "operationId": "listCampaigns",
                    "summary": "Public campaigns, newest first, a page at a time",
                    "parameters": [
                        {"name": "page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}},
                        {"name": "per_page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                    ],
                    "responses": {"200": _ok("CampaignPage", "A page of public campaigns"),
                                  "304": _NOT_MODIFIED, **_errors(400, 429)},
                },
            },
            "/campaigns/{slug}": {
                "get": {
                    "operationId": "getCampaign",
                    "summary": "One public campaign",
                    "parameters": [_SLUG],
                    "responses": {"200": _ok("Campaign", "The campaign"), "301": _MOVED, "304": _NOT_MODIFIED,
                                  **_errors(404, 429)},
                },
            },
            "/campaigns/{slug}/count": {
                "get": {
                    "operationId": "getCampaignCount",
                    "summary": "A campaign's signature count (cheap; poll this one)",
                    "parameters": [_SLUG],
                    "responses": {"200": _ok("Count", "The count"), "301": _MOVED, "304": _NOT_MODIFIED,
                                  **_errors(404, 429)},
                },
            },
        },
        "components": {
            "responses": {
                "Problem": {
                    "description": "An error (RFC 9457)",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                },
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                   "status": {"type": "integer", "minimum": 400, "maximum": 599},
                                   "detail": {"type": "string"}},
                },
                "Count": {
                    "type": "object",
                    "required": ["slug", "total_signatures", "goal", "accepting_signatures"],
                    "properties": {
                        "slug": {"type": "string"},
                        "total_signatures": {"type": "integer", "minimum": 0},
                        "goal": {"type": "integer", "minimum": 1,
                                 "description": "The goal shown: the campaign's own, then the next step once met."},
                        "accepting_signatures": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                },
                "Campaign": {
                    "type": "object",
                    "required": ["identifiers", "origin_system", "slug", "title", "summary", "targets",
                                 "organisation", "total_signatures", "goal", "status", "accepting_signatures",
                                 "deadline", "created_date", "modified_date", "languages", "browser_url", "_links"],
                    "properties": {
                        "identifiers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "origin_system": {"type": "string"},
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "summary": {"type": "string"},
                        "targets": {"type": "array", "items": {
                            "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}},
                            "additionalProperties": False}},
                        "organisation": {"type": "object", "required": ["name"],
                                         "properties": {"name": {"type": "string"}}, "additionalProperties": False},
                        "total_signatures": {"type": "integer", "minimum": 0},
                        "goal": {"type": "integer", "minimum": 1},
                        "status": {"type": "string", "enum": ["open", "closed", "delivered"]},
                        "accepting_signatures": {"type": "boolean"},
                        "deadline": {"type": ["string", "null"], "format": "date-time"},
                        "created_date": {"type": "string", "format": "date-time"},
                        "modified_date": {"type": "string", "format": "date-time"},
                        "languages": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "browser_url": {"type": "string", "format": "uri"},
                        "_links": {"type": "object", "required": ["self", "count"],
                                   "properties": {"self": _LINK, "count": _LINK}, "additionalProperties": False},
                    },
                    "additionalProperties": False,
                },
                "CampaignPage": {
                    "type": "object",
                    "required": ["total_records", "total_pages", "page", "per_page", "_embedded", "_links"],
                    "properties": {
                        "total_records": {"type": "integer", "minimum": 0},
                        "total_pages": {"type": "integer", "minimum": 1},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                        "_embedded": {"type": "object", "required": ["campaigns"], "properties": {
                            "campaigns": {"type": "array", "items": {"$ref": "#/components/schemas/Campaign"}}},
                            "additionalProperties": False},
                        "_links": {"type": "object", "required": ["self"],
                                   "properties": {"self": _LINK, "next": _LINK, "prev": _LINK},
                                   "additionalProperties": False},
                    },
                    "additionalProperties": False,
                },
            },
        },
    }

"""GET /api/v1/...: public campaigns as JSON, for partners' sites and CRMs; read-only, cacheable, rate-limited.

Every answer is the same for everyone (no cookie, no session, nothing about any signer), may be read from any site
(`Access-Control-Allow-Origin: *`, never with credentials), carries an ETag and answers 304 to a matching
If-None-Match. Errors are RFC 9457 problem documents (application/problem+json).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from petition_app import counts, errors, fastpath
from petition_app.api import resources
from petition_app.api.openapi import openapi_document
from petition_app.extensions import db, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25


def _api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


_limited = limiter.shared_limit(_api_limit, scope="api")  # one budget for the whole API, per client


class BadParameter(HTTPException):
    code = 400


def _json_body(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def json_response(data: Any, max_age: int) -> Response:
    """A cacheable JSON answer with an ETag of its bytes; 304 when the client already has them."""
    body = _json_body(data)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = (
        f"public, max-age={max_age}, stale-while-revalidate={max(60, max_age * 5)}, stale-if-error=86400")
    return response.make_conditional(request)


def problem(status: int, title: str, detail: str = "", headers: dict[str, str] | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    response = Response(_json_body(body), status=status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(description=f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def _moved(slug: str) -> Response | None:
    """A 301 to the same resource at a renamed campaign's current address, or None."""
    current = resources.current_slug(slug)
    if current is None:
        return None
    return redirect(url_for(request.endpoint, slug=current), code=301)


def _cache_seconds() -> int:
    return max(0, int(current_app.config["API_CACHE_SECONDS"]))


@bp.get("/campaigns")
@_limited
def campaigns():
    page = _int_arg("page", 1, 1, 100_000)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    return json_response(resources.campaign_page(page, per_page), _cache_seconds())


@bp.get("/campaigns/<slug>")
@_limited
def campaign(slug: str):
    found = resources.public_campaign(slug)
    if found is None:
        return _moved(slug) or problem(404, "Not Found", "There is no public campaign at this address.")
    return json_response(resources.campaign_resource(found), _cache_seconds())


@bp.get("/campaigns/<slug>/count")
@_limited
def campaign_count(slug: str):
    """The count from the same cache as the live counter; replayed in front of Flask while it lasts (fastpath)."""
    snap = counts.cached_snapshot(slug)
    if snap is None:
        return _moved(slug) or problem(404, "Not Found", "There is no public campaign at this address.")
    seconds = current_app.config["COUNTER_CACHE_SECONDS"]
    if seconds > 0:
        request.environ[fastpath.MARKER] = time.time() + seconds
    return json_response(resources.count_resource(snap), seconds)


@bp.get("/openapi.json")
@_limited
def openapi():
    return json_response(openapi_document(), 3600)


@bp.get("/", defaults={"rest": ""})
@bp.get("/<path:rest>")
def unknown(rest: str):
    """Any other address under /api/v1 answers a problem document, not an HTML page."""
    return problem(404, "Not Found", "No such API resource.")


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException):
    """Any HTTP error of the API as a problem document; also those raised before the blueprint is chosen, such as
    a write method's 405 (registered with the site's error handler for the API's addresses)."""
    status = error.code or 500
    headers = {}
    if status == 429:
        headers["Retry-After"] = "60"
    if status == 405:
        headers["Allow"] = ", ".join(sorted(set(error.valid_methods or ("GET",)) | {"HEAD", "OPTIONS"}))
        detail = "This API is read-only."
    else:
        detail = error.description if isinstance(error, BadParameter) else ""
    return problem(status, error.name, detail, headers)


errors.PREFIX_HANDLERS[bp.url_prefix + "/"] = http_problem


@bp.errorhandler(Exception)
def unexpected_problem(error: Exception):
    db.session.rollback()
    current_app.logger.exception("Unhandled error in the API")
    return problem(500, "Internal Server Error")


@bp.after_request
def cors(response: Response) -> Response:
    """Readable from any site, never with credentials (no cookie is ever needed or set)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response

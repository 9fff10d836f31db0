"""Response headers and request handling that keep visitors' traces off the server and other hosts."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from flask import Flask, Response, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=(), browsing-topics=()"
)

_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\b")
# Link tokens in paths (/s/confirm/<token>, /start/dashboard/<token>, ...): whoever reads a log must not be able
# to confirm, remove or unsubscribe a signature, or open a starter's dashboard.
_LINK_TOKEN = re.compile(r"(/s/[a-z]+/|/start/[a-z]+/|/admin/reset/|/admin/invitations/)[^/?\s\"]+")


def scrub_log_text(text: str) -> str:
    """A log line without client addresses and without the tokens of mailed links."""
    return _ADDRESS.sub("-", _LINK_TOKEN.sub(r"\1…", text))


class AddressScrubber(logging.Filter):
    """Remove IP addresses and link tokens from log records (the development server logs both)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(scrub_log_text(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = scrub_log_text(record.msg)
        return True


# Characters a URI may carry as they are (RFC 3986 reserved and unreserved, and "%" of existing escapes).
_URI_SAFE = "/:@!$&'()*+,;=-._~?%"


def onion_location(onion_url: str, path: str, query_string: bytes) -> str:
    """The same page on the onion address, percent-encoded: a header value holds ASCII only, never CR or LF."""
    location = onion_url.rstrip("/") + quote(path, safe=_URI_SAFE)
    if query_string:
        location += "?" + quote(query_string, safe=_URI_SAFE)
    return location


def init_app(app: Flask) -> None:
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        # Only as many forwarded hops as the operator declared; otherwise X-Forwarded-For is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)  # type: ignore[method-assign]

    @app.before_request
    def refuse_nul_bytes():
        # No database stores a NUL character (PostgreSQL refuses one): stop it at the door, not with a 500.
        if "\x00" in request.path:
            abort(404)
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            abort(400)

    https = app.config["PUBLIC_URL"].startswith("https://")
    onion = app.config.get("ONION_URL")

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if onion:
            headers.setdefault("Onion-Location", onion_location(onion, request.path, request.query_string))
        if request.method != "GET" or "Cache-Control" not in headers:
            # Pages carry form tokens and personal answers: never store them in shared caches.
            headers.setdefault("Cache-Control", "no-store")
        return response

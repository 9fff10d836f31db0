"""Response headers and request handling that keep visitors' traces off the server and other hosts."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from urllib.parse import quote, urlsplit

from flask import Flask, Response, abort, current_app, g, has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms.csrf.core import CSRF
from wtforms.validators import ValidationError

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def content_security_policy(frame_ancestors: list[str] | None = None) -> str:
    """The site's policy; a page made for framing (the embed page) names the origins that may frame it."""
    if not frame_ancestors:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(frame_ancestors))


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


# -- public forms: no session, no per-visitor token --------------------------------------------------------------
# Public pages are the same bytes for every visitor, so their forms cannot carry a per-session token. A POST to a
# public blueprint is refused when the browser says it comes from another site (Sec-Fetch-Site: cross-site, or an
# Origin of another host), and must carry the shared form token: an HMAC of SECRET_KEY and a 12-hour bucket,
# accepted for the current and the previous bucket (so a page left open for 12 to 24 hours still posts).
# Admin pages keep sessions and Flask-WTF's per-session token. See docs/threat-model.md.
PUBLIC_BLUEPRINTS = frozenset({"campaigns", "signing", "pages", "starter", "embed"})
# Authorised by the token in their URL alone (RFC 8058 one-click unsubscribe is posted by mail providers' servers).
TOKEN_AUTHORISED_ENDPOINTS = frozenset({"signing.unsubscribe_post"})
FORM_TOKEN_BUCKET_SECONDS = 12 * 3600


def form_token_bucket(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // FORM_TOKEN_BUCKET_SECONDS)


def public_form_token(bucket: int | None = None) -> str:
    """The token every public form carries in this 12-hour bucket: the same for every visitor."""
    bucket = form_token_bucket() if bucket is None else bucket
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"public-form:{bucket}".encode(), hashlib.sha256).hexdigest()[:40]


def public_form_token_valid(value: str | None, now: float | None = None) -> bool:
    if not value or not isinstance(value, str):
        return False
    bucket = form_token_bucket(now)
    raw = value.encode("utf-8", "replace")
    return any(hmac.compare_digest(raw, public_form_token(b).encode()) for b in (bucket, bucket - 1))


def is_public_request() -> bool:
    if request.blueprint is None:  # no route matched (404, 405): the admin's own error pages keep the session token
        return not (request.path == "/admin" or request.path.startswith("/admin/"))
    return request.blueprint in PUBLIC_BLUEPRINTS


def cross_site_refusal() -> str | None:
    """Why this POST looks cross-site, or None. Browsers send Origin: null under Referrer-Policy: no-referrer."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return "cross-site"
    origin = request.headers.get("Origin", "").strip()
    if origin and origin != "null" and urlsplit(origin).netloc.lower() != request.host.lower():
        return "foreign origin"
    return None


def form_token() -> str:
    """The form token for templates: shared on public pages, Flask-WTF's per-session one on admin pages."""
    return public_form_token() if is_public_request() else generate_csrf()


class SharedTokenCSRF(CSRF):
    """WTForms CSRF for public forms: renders the shared token and checks it (no session)."""

    def generate_csrf_token(self, csrf_token_field) -> str:
        return public_form_token()

    def validate_csrf_token(self, form, field) -> None:
        if g.get("public_form_checked") or not has_request_context():
            return  # checked before the view, from the field or the X-CSRFToken header
        if not public_form_token_valid(field.data):
            raise ValidationError(field.gettext("The form token is invalid."))


class PublicForm(FlaskForm):
    """A form on a public page: protected by the same-site rule and the shared token, never by a session."""

    class Meta(FlaskForm.Meta):
        csrf_class = SharedTokenCSRF


def _refuse_cross_site_public_posts() -> None:
    if request.method != "POST" or request.url_rule is None or not is_public_request():
        return  # unknown URLs and wrong methods get their own 404 and 405
    if request.endpoint in TOKEN_AUTHORISED_ENDPOINTS:
        return
    if cross_site_refusal() is not None:
        raise CSRFError("cross-site request")
    if not public_form_token_valid(request.form.get("csrf_token") or request.headers.get("X-CSRFToken")):
        raise CSRFError("missing or expired form token")
    g.public_form_checked = True


def init_public_forms(app: Flask) -> None:
    from petition_app.extensions import csrf

    for name in PUBLIC_BLUEPRINTS:
        if name in app.blueprints:
            csrf.exempt(app.blueprints[name])
    app.before_request(_refuse_cross_site_public_posts)
    app.jinja_env.globals["csrf_token"] = form_token
    app.context_processor(lambda: {"csrf_token": form_token})  # after Flask-WTF's, so this one wins


def init_app(app: Flask) -> None:
    init_public_forms(app)
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

    leading = [("Referrer-Policy", "no-referrer"), ("X-Content-Type-Options", "nosniff")]
    trailing = [("Permissions-Policy", PERMISSIONS_POLICY), ("Cross-Origin-Opener-Policy", "same-origin")]
    if https:
        trailing.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        present = {key.lower() for key in headers.keys()}  # one pass, not a search of the headers per default
        # g.frame_ancestors: set by a view whose page partners may frame; every other page is never framed.
        frame_ancestors = g.get("frame_ancestors")
        defaults = [("Content-Security-Policy", content_security_policy(frame_ancestors)), *leading]
        if not frame_ancestors:
            defaults.append(("X-Frame-Options", "DENY"))
        defaults += trailing
        if onion:
            defaults.append(("Onion-Location", onion_location(onion, request.path, request.query_string)))
        if request.method != "GET" or "cache-control" not in present:
            # Pages carry form tokens and personal answers: never store them in shared caches.
            defaults.append(("Cache-Control", "no-store"))
        for key, value in defaults:
            if key.lower() not in present:
                headers.add(key, value)
        return response

"""Site pages (privacy, terms, contact, FAQ) and the language switch."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, send_from_directory
from flask_babel import get_locale

from petition_app import site_logo, site_settings
from petition_app.i18n import LANGUAGE_COOKIE
from petition_app.markup import render_markdown
from petition_app.pagecache import cache_headers, public_page
from petition_app.pages.content import current_page
from petition_app.pages.placeholders import has_placeholders

bp = Blueprint("pages", __name__)

def _page(name: str):
    title, body = current_page(name, str(get_locale()))
    return render_template("pages/page.html", title=title, body=render_markdown(body), name=name)


@bp.get("/privacy")
@public_page
def privacy():
    return _page("privacy")


@bp.get("/terms")
@public_page
def terms():
    return _page("terms")


@bp.get("/contact")
@public_page
def contact():
    title, body = current_page("contact", str(get_locale()))
    if has_placeholders(title + "\n" + body):
        return render_template("pages/contact_pending.html")
    return render_template("pages/page.html", title=title, body=render_markdown(body), name="contact")


@bp.get("/faq")
@public_page
def faq():
    return _page("faq")


@bp.get("/site.css")
def site_css():
    """The site settings' stylesheet: kept for good under its version's address, revalidated under any other."""
    response = Response(site_settings.stylesheet(), mimetype="text/css")
    if request.args.get("v") == site_settings.version():
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        cache_headers(response, current_app.config["PAGE_CACHE_SECONDS"])
        response.set_etag(site_settings.version())
        response = response.make_conditional(request)
    return response


@bp.get("/site-logo/<name>")
def site_logo_file(name: str):
    """A stored logo: its name is the hash of its bytes, so it never changes."""
    path = site_logo.file_for(name) if site_logo.NAME.match(name) else None
    if path is None:
        abort(404)
    response = send_from_directory(path.parent, path.name, mimetype="image/png", etag=True)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/language/<code>")
def set_language(code: str):
    """Remember the visitor's language choice and go back to the page they were reading."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    target = request.args.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        target = "/"
    response = redirect(target, code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, code, max_age=365 * 86400, httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response

"""Site pages (privacy, terms, contact, FAQ) and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask_babel import get_locale

from petition_app.i18n import LANGUAGE_COOKIE
from petition_app.markup import render_markdown
from petition_app.pagecache import public_page
from petition_app.pages.content import current_page

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
    return _page("contact")


@bp.get("/faq")
@public_page
def faq():
    return _page("faq")


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

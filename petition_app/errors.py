"""Friendly error pages (full pages, or fragments for htmx requests); never a bare 500."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from petition_app.extensions import db, htmx


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something was wrong with that request"), _("Please go back, reload the page and try again.")),
        404: (_("Page not found"), _("This page does not exist, or the campaign is no longer online.")),
        405: (_("Not allowed"), _("This address cannot be used that way.")),
        409: (_("Not possible right now"), _("This action is no longer possible.")),
        413: (_("Too much data"), _("What you sent is too large. Please shorten it and try again.")),
        429: (_("Please slow down"), _("Too many requests came from your network. Please wait a minute and try again.")),
        500: (_("Something went wrong"), _("Nothing you did caused this. Please try again in a moment.")),
    }


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in URLs: ids beyond a database integer (2**31 - 1) match no route, so they answer 404, not 500."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


# Answers for errors raised before any blueprint is chosen (e.g. a 405 from routing) under an address prefix whose
# feature answers in its own format (the API: problem documents); registered by that feature, so this module
# imports none.
PREFIX_HANDLERS: dict[str, Callable[[HTTPException], ResponseReturnValue]] = {}


def render_error(status: int, detail: str | None = None):
    messages = _messages()
    title, text = messages.get(status, messages[400 if status < 500 else 500])
    if htmx:
        # Show the message in the page's message area and leave the form (and what was typed) alone.
        body = render_template("errors/_fragment.html", status=status, title=title, text=detail or text)
        return body, status, {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
    return render_template("errors/error.html", status=status, title=title, text=detail or text), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, _("Your form expired or came from another site. Please reload the page and submit it again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        for prefix, handler in PREFIX_HANDLERS.items():
            if request.path.startswith(prefix):
                return handler(error)
        body, status, *headers = render_error(error.code)
        # Keep what the exception says about itself (e.g. a 405's Allow), beside the fragment's own headers.
        extra = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return body, status, {**extra, **(headers[0] if headers else {})}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return render_error(500)

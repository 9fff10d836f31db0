"""The live Markdown preview beside the admin's text areas, and the no-JavaScript Preview button."""

from __future__ import annotations

from flask import request
from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from petition_app.admin import bp
from petition_app.admin.access import any_member_view
from petition_app.markup import render_markdown

PREVIEW_MAX = 200_000


def preview_html(source: str) -> Markup:
    """Sanitized HTML of unsaved Markdown (not through render_markdown's cache, which is for published texts)."""
    return render_markdown.__wrapped__(source or "")


def previews(form, names) -> dict[str, Markup]:
    render = preview_html if request.method == "POST" else render_markdown
    return {name: render(form[name].data or "") for name in names}


def wants_preview() -> bool:
    """The no-JavaScript "Preview" button: show the rendered texts, save nothing."""
    return request.method == "POST" and "preview" in request.form


@bp.post("/preview")
@any_member_view
def preview():
    """The sanitized HTML of a Markdown text, for the live preview beside a textarea."""
    source = request.form.get("source")
    if source is None:  # htmx sends the textarea under its own name (hx-params keeps only that one)
        values = [value for key, value in request.form.items() if key != "csrf_token"]
        source = values[0] if len(values) == 1 else ""
    if len(source) > PREVIEW_MAX:
        message = _("This text is too long to preview (at most %(num)s characters).", num=format_decimal(PREVIEW_MAX))
        return Markup('<p class="field-error" role="alert">{}</p>').format(message), 413
    return preview_html(source)

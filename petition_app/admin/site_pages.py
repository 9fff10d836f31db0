"""The site pages (privacy, terms, contact, FAQ): edited per language, or reset to the shipped text."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from petition_app.admin import bp
from petition_app.admin.access import superuser_view
from petition_app.admin.campaign_forms import SitePageForm
from petition_app.admin.previews import previews, wants_preview
from petition_app.extensions import db
from petition_app.models import SitePage
from petition_app.pages.content import PAGES, SavedMeanwhile, default_page, edited_page, reset_page, save_page


def _page_or_404(name: str, language: str) -> SitePage | None:
    """The edited page, None while the shipped text is used; unknown pages and languages end in 404."""
    if name not in PAGES or language not in current_app.config["LANGUAGES"]:
        abort(404)
    return edited_page(name, language)


@bp.get("/pages")
@superuser_view
def site_pages():
    edited = {(p.name, p.language): p for p in db.session.execute(select(SitePage)).scalars()}
    return render_template("admin/site_pages.html", pages=PAGES, language_codes=current_app.config["LANGUAGES"],
                           edited=edited)


@bp.route("/pages/<name>/<language>", methods=["GET", "POST"])
@superuser_view
def site_page_edit(name: str, language: str):
    page = _page_or_404(name, language)
    if request.method == "GET":
        title, body = (page.title, page.body) if page is not None else default_page(name, language)
        form = SitePageForm(data={"title": title, "body": body})
    else:
        form = SitePageForm()
    for text_field in (form.title, form.body):  # spell-checking in the page's language
        text_field.render_kw = {**(text_field.render_kw or {}), "lang": language}
    if not wants_preview() and form.validate_on_submit():
        try:
            page = save_page(name, language, form.title.data, form.body.data)
        except SavedMeanwhile:
            form.body.errors.append(_("Someone else saved this page just now. Reload it to see their text."))
        else:
            flash(_("The page was saved."))
            return redirect(url_for("admin.site_pages"), code=303)
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("admin/site_page_form.html", form=form, name=name, language=language, page=page,
                           previews=previews(form, ("body",))), status


@bp.post("/pages/<name>/<language>/reset")
@superuser_view
def site_page_reset(name: str, language: str):
    _page_or_404(name, language)
    reset_page(name, language)
    flash(_("The page shows the shipped text again."))
    return redirect(url_for("admin.site_pages"), code=303)

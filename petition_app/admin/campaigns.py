"""Campaign editing, Markdown preview, status changes, dated updates and the site pages."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from petition_app import audit
from petition_app.admin import bp, editing
from petition_app.admin.access import any_member_view, campaign_view, superuser_view, visible_organisations
from petition_app.admin.campaign_forms import CampaignForm, SitePageForm, UpdateForm
from petition_app.campaigns import service as campaign_service
from petition_app.extensions import db
from petition_app.markup import render_markdown
from petition_app.models import Campaign, CampaignUpdate, Role, SitePage
from petition_app.pages.content import PAGES, default_page
from petition_app.templating import public_url

PREVIEW_MAX = 200_000
CAMPAIGN_MARKDOWN = ("body", "petition_text", "petition_closing")


def preview_html(source: str) -> Markup:
    """Sanitized HTML of unsaved Markdown (not through render_markdown's cache, which is for published texts)."""
    return render_markdown.__wrapped__(source or "")


def _previews(form, names) -> dict[str, Markup]:
    render = preview_html if request.method == "POST" else render_markdown
    return {name: render(form[name].data or "") for name in names}


def _wants_preview() -> bool:
    """The no-JavaScript "Preview" button: show the rendered texts, save nothing."""
    return request.method == "POST" and "preview" in request.form


# -- campaigns ------------------------------------------------------------------------------------------------------


def _campaign_form_page(form: CampaignForm, campaign: Campaign | None):
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template(
        "admin/campaign_form.html", form=form, campaign=campaign,
        previews=_previews(form, CAMPAIGN_MARKDOWN), candidates=editing.related_candidates(campaign),
    ), status


def _slug_race(form: CampaignForm) -> None:
    db.session.rollback()
    form.slug.errors.append(_("This address was just taken. Please choose another."))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@any_member_view
def campaign_new():
    if not visible_organisations(Role.EDITOR):
        abort(404)
    form = CampaignForm()
    editing.set_choices(form, None)
    if request.method == "GET":
        locale = str(get_locale())
        form.language.data = locale if locale in current_app.config["LANGUAGES"] else None
    if _wants_preview():
        return _campaign_form_page(form, None)
    if form.is_submitted():
        valid = form.validate()
        related = editing.check_campaign(form, None)
        if valid and related is not None:
            try:
                campaign = campaign_service.create(editing.campaign_data(form, related))
            except IntegrityError:
                _slug_race(form)
            else:
                flash(_("The campaign was saved as a draft. Open it when it is ready."))
                return redirect(url_for("admin.campaign", campaign_id=campaign.id), code=303)
    return _campaign_form_page(form, None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def campaign_edit(campaign: Campaign):
    form = CampaignForm() if request.method == "POST" else CampaignForm(data=editing.form_data(campaign))
    editing.set_choices(form, campaign)
    if _wants_preview():
        return _campaign_form_page(form, campaign)
    if form.is_submitted():
        valid = form.validate()
        related = editing.check_campaign(form, campaign)
        if valid and related is not None:
            try:
                changed = campaign_service.update(campaign, editing.campaign_data(form, related))
            except IntegrityError:
                _slug_race(form)
            else:
                flash(_("Saved.") if changed else _("Nothing was changed."))
                return redirect(url_for("admin.campaign", campaign_id=campaign.id), code=303)
    return _campaign_form_page(form, campaign)


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


# -- status ---------------------------------------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/status", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def campaign_status(campaign: Campaign):
    values = request.form if request.method == "POST" else request.args
    to = campaign_service.parse_status(values.get("to"))
    error = None
    if request.method == "POST" and values.get("from") not in (None, campaign.status.value):
        error = _("Someone changed the status meanwhile: the campaign is now %(status)s. Please check again.",
                  status=campaign.status.value)
    elif ("to" in values or request.method == "POST") and not campaign_service.can_change(campaign, to):
        error = _("The campaign is %(status)s; it cannot become “%(to)s”.", status=campaign.status.value,
                  to=to.value if to else values.get("to", "")[:20])
    elif request.method == "POST":
        campaign_service.change_status(campaign, to)
        flash(_("The campaign is now %(status)s.", status=to.value))
        return redirect(url_for("admin.campaign", campaign_id=campaign.id), code=303)
    deadline = campaign.deadline
    return render_template(
        "admin/campaign_status.html", campaign=campaign, to=None if error else to, error=error,
        choices=campaign_service.TRANSITIONS[campaign.status], url=public_url("campaigns.show", slug=campaign.slug),
        deadline_passed=deadline is not None and deadline <= datetime.now(timezone.utc), deadline=deadline,
    ), 422 if error else 200


# -- dated updates --------------------------------------------------------------------------------------------------


def _update_or_404(campaign: Campaign, update_id: int) -> CampaignUpdate:
    update = db.session.get(CampaignUpdate, update_id)
    if update is None or update.campaign_id != campaign.id:
        abort(404)
    return update


def _update_label(update: CampaignUpdate) -> str:
    return f"{update.published_on.isoformat()} {update.title}".strip()


@bp.route("/campaigns/<int:campaign_id>/updates", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def campaign_updates(campaign: Campaign):
    form = UpdateForm()
    if request.method == "GET":
        form.published_on.data = datetime.now(timezone.utc).date()
    if not _wants_preview() and form.validate_on_submit():
        update = CampaignUpdate(campaign_id=campaign.id, published_on=form.published_on.data,
                                title=form.title.data or "", body=form.body.data)
        db.session.add(update)
        audit.record("update added", campaign.slug, campaign.organisation_id, _update_label(update))
        db.session.commit()
        flash(_("The update was published."))
        return redirect(url_for("admin.campaign_updates", campaign_id=campaign.id), code=303)
    updates = db.session.execute(
        select(CampaignUpdate).where(CampaignUpdate.campaign_id == campaign.id)
        .order_by(CampaignUpdate.published_on.desc(), CampaignUpdate.id.desc())
    ).scalars().all()
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("admin/updates.html", campaign=campaign, updates=updates, form=form,
                           previews=_previews(form, ("body",))), status


@bp.route("/campaigns/<int:campaign_id>/updates/<int:update_id>/edit", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def update_edit(campaign: Campaign, update_id: int):
    update = _update_or_404(campaign, update_id)
    form = UpdateForm(obj=update)
    if not _wants_preview() and form.validate_on_submit():
        update.published_on = form.published_on.data
        update.title = form.title.data or ""
        update.body = form.body.data
        audit.record("update edited", campaign.slug, campaign.organisation_id, _update_label(update))
        db.session.commit()
        flash(_("The update was saved."))
        return redirect(url_for("admin.campaign_updates", campaign_id=campaign.id), code=303)
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("admin/update_form.html", campaign=campaign, update=update, form=form,
                           previews=_previews(form, ("body",)), confirm_delete=False), status


@bp.route("/campaigns/<int:campaign_id>/updates/<int:update_id>/delete", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def update_delete(campaign: Campaign, update_id: int):
    update = _update_or_404(campaign, update_id)
    if request.method == "GET":
        return render_template("admin/update_form.html", campaign=campaign, update=update, form=None,
                               previews={}, confirm_delete=True)
    audit.record("update deleted", campaign.slug, campaign.organisation_id, _update_label(update))
    db.session.delete(update)
    db.session.commit()
    flash(_("The update was deleted."))
    return redirect(url_for("admin.campaign_updates", campaign_id=campaign.id), code=303)


# -- site pages -----------------------------------------------------------------------------------------------------


def _page_or_404(name: str, language: str) -> SitePage | None:
    """The edited page, None while the shipped text is used; unknown pages and languages end in 404."""
    if name not in PAGES or language not in current_app.config["LANGUAGES"]:
        abort(404)
    return db.session.execute(
        select(SitePage).where(SitePage.name == name, SitePage.language == language)
    ).scalar_one_or_none()


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
    if not _wants_preview() and form.validate_on_submit():
        if page is None:
            page = SitePage(name=name, language=language)
            db.session.add(page)
        page.title, page.body = form.title.data, form.body.data
        audit.record("site page edited", f"{name} ({language})")
        try:
            db.session.commit()
        except IntegrityError:  # saved by someone else at the same moment
            db.session.rollback()
            form.body.errors.append(_("Someone else saved this page just now. Reload it to see their text."))
        else:
            flash(_("The page was saved."))
            return redirect(url_for("admin.site_pages"), code=303)
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("admin/site_page_form.html", form=form, name=name, language=language, page=page,
                           previews=_previews(form, ("body",))), status


@bp.post("/pages/<name>/<language>/reset")
@superuser_view
def site_page_reset(name: str, language: str):
    page = _page_or_404(name, language)
    if page is not None:
        db.session.delete(page)
        audit.record("site page reset", f"{name} ({language})")
        db.session.commit()
    flash(_("The page shows the shipped text again."))
    return redirect(url_for("admin.site_pages"), code=303)

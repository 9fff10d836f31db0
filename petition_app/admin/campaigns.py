"""Creating and editing a campaign, and changing its status."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from petition_app.admin import bp, editing
from petition_app.admin.access import any_member_view, campaign_view, visible_organisations
from petition_app.admin.campaign_forms import CampaignForm
from petition_app.admin.previews import previews, wants_preview
from petition_app.campaigns import service as campaign_service
from petition_app.extensions import db
from petition_app.models import Campaign, Role
from petition_app.templating import public_url

CAMPAIGN_MARKDOWN = ("body", "petition_text", "petition_closing")


# -- campaigns ------------------------------------------------------------------------------------------------------


def _campaign_form_page(form: CampaignForm, campaign: Campaign | None):
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template(
        "admin/campaign_form.html", form=form, campaign=campaign,
        previews=previews(form, CAMPAIGN_MARKDOWN), candidates=editing.related_candidates(campaign),
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
    if wants_preview():
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
    if wants_preview():
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

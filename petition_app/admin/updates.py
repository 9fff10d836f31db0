"""A campaign's dated updates: add, edit, delete."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from petition_app.admin import bp
from petition_app.admin.access import campaign_view
from petition_app.admin.campaign_forms import UpdateForm
from petition_app.admin.previews import previews, wants_preview
from petition_app.campaigns import service as campaign_service
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignUpdate, Role


def _update_or_404(campaign: Campaign, update_id: int) -> CampaignUpdate:
    update = db.session.get(CampaignUpdate, update_id)
    if update is None or update.campaign_id != campaign.id:
        abort(404)
    return update


@bp.route("/campaigns/<int:campaign_id>/updates", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def campaign_updates(campaign: Campaign):
    form = UpdateForm()
    if request.method == "GET":
        form.published_on.data = datetime.now(timezone.utc).date()
    if not wants_preview() and form.validate_on_submit():
        campaign_service.add_update(campaign, form.published_on.data, form.title.data, form.body.data)
        flash(_("The update was published."))
        return redirect(url_for("admin.campaign_updates", campaign_id=campaign.id), code=303)
    updates = db.session.execute(
        select(CampaignUpdate).where(CampaignUpdate.campaign_id == campaign.id)
        .order_by(CampaignUpdate.published_on.desc(), CampaignUpdate.id.desc())
    ).scalars().all()
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("admin/updates.html", campaign=campaign, updates=updates, form=form,
                           previews=previews(form, ("body",))), status


@bp.route("/campaigns/<int:campaign_id>/updates/<int:update_id>/edit", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def update_edit(campaign: Campaign, update_id: int):
    update = _update_or_404(campaign, update_id)
    form = UpdateForm(obj=update)
    if not wants_preview() and form.validate_on_submit():
        campaign_service.edit_update(campaign, update, form.published_on.data, form.title.data, form.body.data)
        flash(_("The update was saved."))
        return redirect(url_for("admin.campaign_updates", campaign_id=campaign.id), code=303)
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("admin/update_form.html", campaign=campaign, update=update, form=form,
                           previews=previews(form, ("body",)), confirm_delete=False), status


@bp.route("/campaigns/<int:campaign_id>/updates/<int:update_id>/delete", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def update_delete(campaign: Campaign, update_id: int):
    update = _update_or_404(campaign, update_id)
    if request.method == "GET":
        return render_template("admin/update_form.html", campaign=campaign, update=update, form=None,
                               previews={}, confirm_delete=True)
    campaign_service.delete_update(campaign, update)
    flash(_("The update was deleted."))
    return redirect(url_for("admin.campaign_updates", campaign_id=campaign.id), code=303)

"""Moderation of campaigns proposed through "Start your campaign": the queue, a proposal, decisions, starters' updates.

Every view is behind the admin login (the blueprint) and access.moderator_view; the rules are in starter.service.
CSRFProtect checks the token of every POST before these views run.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from petition_app.admin import bp
from petition_app.admin.access import can_moderate, moderated_organisation_ids, moderator_view
from petition_app.admin.forms import ReasonForm
from petition_app.extensions import db
from petition_app.models import CampaignUpdate, Starter
from petition_app.starter import service


@bp.context_processor
def moderation_nav():
    return {"can_moderate": can_moderate}


@bp.get("/moderation")
@moderator_view
def moderation():
    ids = moderated_organisation_ids()
    return render_template(
        "admin/moderation.html", pending=service.moderation_queue(ids), decided=service.recent_decisions(ids),
        with_updates=service.starters_with_pending_updates(ids),
    )


def _proposal_page(starter: Starter, status: int = 200, error: str | None = None, reject_form: ReasonForm | None = None,
                   take_down_form: ReasonForm | None = None):
    campaign = starter.campaign
    edit_url = (url_for("admin.campaign_edit", campaign_id=campaign.id)
                if "admin.campaign_edit" in current_app.view_functions else None)
    return render_template(
        "admin/moderation_starter.html", starter=starter, campaign=campaign, edit_url=edit_url, error=error,
        reject_form=reject_form or ReasonForm(prefix="reject", formdata=None),
        take_down_form=take_down_form or ReasonForm(prefix="take_down", formdata=None),
        pending_updates=service.campaign_updates(campaign, approved=False),
    ), status


def _back(starter: Starter, message: str):
    flash(message)
    return redirect(url_for("admin.moderation_starter", starter_id=starter.id), code=303)


def _conflict(starter: Starter):
    return _proposal_page(starter, 409, _("Someone decided on this proposal meanwhile: it is now %(state)s.",
                                          state=starter.state.value))


@bp.get("/moderation/<int:starter_id>")
@moderator_view
def moderation_starter(starter: Starter):
    return _proposal_page(starter)


@bp.post("/moderation/<int:starter_id>/approve")
@moderator_view
def moderation_approve(starter: Starter):
    try:
        service.approve(starter)
    except service.WrongState:
        return _conflict(starter)
    return _back(starter, _("The campaign is online. The starter has been sent the link to their dashboard."))


@bp.post("/moderation/<int:starter_id>/reject")
@moderator_view
def moderation_reject(starter: Starter):
    form = ReasonForm(prefix="reject")
    if not form.validate_on_submit():
        return _proposal_page(starter, 422, reject_form=form)
    try:
        service.reject(starter, form.reason.data)
    except service.WrongState:
        return _conflict(starter)
    return _back(starter, _("The proposal was turned down. The reason has been sent to the starter."))


@bp.post("/moderation/<int:starter_id>/take-down")
@moderator_view
def moderation_take_down(starter: Starter):
    form = ReasonForm(prefix="take_down")
    if not form.validate_on_submit():
        return _proposal_page(starter, 422, take_down_form=form)
    try:
        service.take_down(starter, form.reason.data)
    except service.WrongState:
        return _conflict(starter)
    return _back(starter, _("The campaign was taken down and closed. The reason has been sent to the starter."))


@bp.post("/moderation/<int:starter_id>/links/revoke")
@moderator_view
def moderation_revoke_links(starter: Starter):
    revoked = service.revoke_links(starter, send_new=False)
    return _back(starter, _("%(num)s dashboard links were revoked.", num=revoked))


@bp.post("/moderation/<int:starter_id>/links/renew")
@moderator_view
def moderation_renew_links(starter: Starter):
    try:
        revoked = service.revoke_links(starter, send_new=True)
    except service.WrongState:
        return _conflict(starter)
    return _back(starter, _("%(num)s dashboard links were revoked and a new one was sent to the starter.", num=revoked))


def _update_of(starter: Starter, update_id: int) -> CampaignUpdate | None:
    posted = db.session.get(CampaignUpdate, update_id)
    return posted if posted is not None and posted.campaign_id == starter.campaign_id else None


@bp.post("/moderation/<int:starter_id>/updates/<int:update_id>/approve")
@moderator_view
def moderation_update_approve(starter: Starter, update_id: int):
    posted = _update_of(starter, update_id)
    if posted is None:
        abort(404)
    service.approve_update(starter, posted)
    return _back(starter, _("The update is published."))


@bp.post("/moderation/<int:starter_id>/updates/<int:update_id>/delete")
@moderator_view
def moderation_update_delete(starter: Starter, update_id: int):
    posted = _update_of(starter, update_id)
    if posted is None:
        abort(404)
    service.delete_update(starter, posted)
    return _back(starter, _("The update was deleted."))

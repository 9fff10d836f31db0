"""A campaign's overview in the admin: figures, mail, the next steps of its status."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _

from petition_app import mailer, stats
from petition_app.admin import bp
from petition_app.admin.access import campaign_view, has_role
from petition_app.campaigns.service import TRANSITIONS
from petition_app.models import Campaign, CampaignStatus, Role


@bp.app_template_global()
def has_endpoint(endpoint: str) -> bool:
    """Whether a view exists, so a page can link to views that another part of the admin adds."""
    return endpoint in current_app.view_functions


@bp.get("/campaigns/<int:campaign_id>")
@campaign_view(Role.VIEWER)
def campaign(campaign: Campaign):
    status_labels = {
        CampaignStatus.OPEN: _("Open for signing"),
        CampaignStatus.CLOSED: _("Close"),
        CampaignStatus.DELIVERED: _("Mark as delivered"),
    }
    return render_template(
        "admin/campaign.html", campaign=campaign, overview=stats.overview(campaign),
        outbox=mailer.outbox_state(campaign.id), can_edit=has_role(campaign.organisation_id, Role.EDITOR),
        is_owner=has_role(campaign.organisation_id, Role.OWNER),
        status_links=[(status, status_labels[status]) for status in TRANSITIONS[campaign.status]],
    )



@bp.post("/campaigns/<int:campaign_id>/outbox/retry")
@campaign_view(Role.EDITOR)
def outbox_retry(campaign: Campaign):
    """Queue the campaign's failed mails again, once the mail server is fixed."""
    queued = mailer.retry_failed(campaign)
    flash(_("%(num)s failed mails were queued again.", num=queued))
    return redirect(url_for("admin.campaign", campaign_id=campaign.id), code=303)

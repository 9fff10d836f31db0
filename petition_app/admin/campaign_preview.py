"""A campaign's saved state shown as its public page, for the organisation's members only (drafts included).

Never through the public page cache: the admin blueprint answers `no-store`, the page says `noindex`, and the
signing form is switched off.
"""

from __future__ import annotations

from flask import make_response, render_template
from flask_babel import get_locale

from petition_app import counts
from petition_app.admin import bp
from petition_app.admin.access import campaign_view
from petition_app.campaigns.queries import more_actions
from petition_app.models import Campaign, Role
from petition_app.signing.forms import SignForm


@bp.get("/campaigns/<int:campaign_id>/preview")
@campaign_view(Role.VIEWER)
def campaign_preview(campaign: Campaign):
    response = make_response(render_template(
        "admin/campaign_preview.html", campaign=campaign, snap=counts.snapshot(campaign),
        form=SignForm(locale=str(get_locale())), thanks=False, actions=more_actions(campaign), preview=True,
    ))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response

"""The admin's home page and what every admin page knows of the logged-in account."""

from __future__ import annotations

from flask import has_request_context, render_template
from flask_login import current_user

from petition_app.admin import accounts, bp
from petition_app.admin.access import (
    any_member_view,
    visible_campaigns,
    visible_organisations,
)
from petition_app.extensions import db
from petition_app.models import Role
from petition_app.pages.placeholders import contact_placeholder_languages


@bp.get("/")
@any_member_view
def dashboard():
    campaigns = db.session.execute(visible_campaigns()).scalars().all()
    return render_template("admin/dashboard.html", campaigns=campaigns, organisations=visible_organisations(),
                           can_create=bool(visible_organisations(Role.EDITOR)),
                           invitations=accounts.pending_invitations(current_user),
                           contact_placeholders=contact_placeholder_languages() if current_user.is_superuser else [])



@bp.app_context_processor
def admin_globals():
    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return {"admin_user": None}
    return {"admin_user": current_user}

"""The admin: organisations, members, campaigns, signatures, exports. Every view is behind login and access.py."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")

PUBLIC_ENDPOINTS = {"admin.login", "admin.login_code", "admin.forgot_password", "admin.forgot_sent",
                    "admin.reset_password", "admin.invitation"}


@bp.before_request
def require_login():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")), code=303)
    return None


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# One module per admin area; importing it registers its routes.
from petition_app.admin import (  # noqa: E402,F401
    auth,
    campaign_preview,
    campaigns,
    dashboard,
    embed,
    exports,
    images,
    invitations,
    mailings,
    moderation,
    organisation_details,
    organisations,
    overview,
    previews,
    settings,
    signatures,
    site_pages,
    translations,
    two_factor,
    updates,
    webhooks,
)

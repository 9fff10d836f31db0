"""Campaign editing, updates, status changes, site pages (stub: being written)."""

from __future__ import annotations

from petition_app.admin import bp
from petition_app.admin.access import any_member_view, superuser_view


@bp.get("/campaigns/new")
@any_member_view
def campaign_new():
    return "todo"


@bp.get("/pages")
@superuser_view
def site_pages():
    return "todo"

"""Campaign overview, statistics, signatures and exports (stub: being written)."""

from __future__ import annotations

from petition_app.admin import bp
from petition_app.admin.access import campaign_view
from petition_app.models import Role


@bp.get("/campaigns/<int:campaign_id>")
@campaign_view(Role.VIEWER)
def campaign(campaign):
    return "todo"

"""Read-side queries for public campaign pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, RelatedCampaign


def public_campaign_or_404(slug: str) -> Campaign:
    campaign = db.session.execute(
        select(Campaign)
        .where(Campaign.slug == slug, Campaign.status != CampaignStatus.DRAFT)
        .options(selectinload(Campaign.partners), selectinload(Campaign.updates))
    ).scalar_one_or_none()
    if campaign is None:
        from flask import abort

        abort(404)
    return campaign


def open_campaigns() -> list[Campaign]:
    rows = db.session.execute(
        select(Campaign).where(Campaign.status == CampaignStatus.OPEN).order_by(Campaign.created_at, Campaign.id)
    ).scalars()
    return [c for c in rows if c.is_open]


def more_actions(campaign: Campaign, limit: int = 4) -> list[Campaign]:
    """Related campaigns in their order first, then other open ones; never the campaign itself."""
    related = db.session.execute(
        select(Campaign)
        .join(RelatedCampaign, RelatedCampaign.related_id == Campaign.id)
        .where(RelatedCampaign.campaign_id == campaign.id, Campaign.status == CampaignStatus.OPEN)
        .order_by(RelatedCampaign.position)
    ).scalars().all()
    chosen = [c for c in related if c.is_open and c.id != campaign.id]
    if len(chosen) < limit:
        seen = {c.id for c in chosen} | {campaign.id}
        chosen += [c for c in open_campaigns() if c.id not in seen][: limit - len(chosen)]
    return chosen[:limit]

"""Read-side queries for public campaign pages."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from petition_app import counts
from petition_app.campaign_versions import CampaignVersion, localise_all, page_context, prefer_language
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, RelatedCampaign, SlugRedirect

# Published: not a draft, and not taken down by a moderator (defined once, on the model).
IS_PUBLIC = Campaign.is_public


def public_campaign_or_404(slug: str) -> Campaign:
    """The public campaign at this address; a former address answers GETs with a 301 to the current one."""
    query = select(Campaign).where(Campaign.slug == slug, IS_PUBLIC)
    if request.method in ("GET", "HEAD"):  # a page shows partners and updates; a form post needs neither
        query = query.options(selectinload(Campaign.partners), selectinload(Campaign.updates))
    campaign = db.session.execute(query).scalar_one_or_none()
    if campaign is not None:
        return campaign
    campaign = renamed_campaign(slug)
    if campaign is None:
        abort(404)
    if request.method in ("GET", "HEAD"):
        abort(redirect_to_current_slug(campaign.slug))
    return campaign  # a form posted to the old address still reaches its campaign


def renamed_campaign(old_slug: str) -> Campaign | None:
    """The public campaign that used to live at this address, if any."""
    return db.session.execute(
        select(Campaign)
        .join(SlugRedirect, SlugRedirect.campaign_id == Campaign.id)
        .where(SlugRedirect.old_slug == old_slug, IS_PUBLIC)
        .options(selectinload(Campaign.partners), selectinload(Campaign.updates))
    ).scalar_one_or_none()


def redirect_to_current_slug(slug: str):
    """A 301 to the same page (and query) of the campaign under its current address."""
    target = url_for(request.endpoint, **{**(request.view_args or {}), "slug": slug})
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=301)


def open_campaigns() -> list[Campaign]:
    rows = db.session.execute(
        select(Campaign).where(Campaign.status == CampaignStatus.OPEN).order_by(Campaign.created_at, Campaign.id)
        .options(selectinload(Campaign.image))
    ).scalars()
    return [c for c in rows if c.is_open]


def more_actions(campaign: Campaign, limit: int = 4) -> list[CampaignVersion]:
    """Related campaigns in their order first, then other open ones; never the campaign itself. Within each group,
    campaigns readable in the visitor's language come first, and each is shown in that language's version."""
    language = str(get_locale())
    related = db.session.execute(
        select(Campaign)
        .join(RelatedCampaign, RelatedCampaign.related_id == Campaign.id)
        .where(RelatedCampaign.campaign_id == campaign.id, Campaign.status == CampaignStatus.OPEN)
        .order_by(RelatedCampaign.position)
        .options(selectinload(Campaign.image))
    ).scalars().all()
    chosen = prefer_language([c for c in related if c.is_open and c.id != campaign.id], language)
    if len(chosen) < limit:
        seen = {c.id for c in chosen} | {campaign.id}
        others = prefer_language([c for c in open_campaigns() if c.id not in seen], language)
        chosen += others[: limit - len(chosen)]
    return localise_all(chosen[:limit], language)


def campaign_context(campaign: Campaign, form=None, thanks: bool = False) -> dict:
    """What the campaign page and its regions show (the page, the signing answers and the fragments alike)."""
    return {
        "snap": counts.snapshot(campaign),
        "form": form,
        "thanks": thanks,
        "actions": more_actions(campaign),
        **page_context(campaign),  # the version shown ("campaign"), its siblings and addresses
    }

"""Public campaigns as plain data for the API, shaped after the OSDI petition resource; nothing about any signer."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from petition_app import counts
from petition_app.campaigns.queries import IS_PUBLIC, renamed_campaign
from petition_app.extensions import db
from petition_app.models import Campaign
from petition_app.templating import public_url

IDENTIFIER_PREFIX = "petition_app"


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z (a naive time from SQLite is UTC already)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def campaign_resource(campaign: Campaign) -> dict[str, Any]:
    snap = counts.snapshot(campaign)
    return {
        "identifiers": [f"{IDENTIFIER_PREFIX}:{campaign.slug}"],
        "origin_system": current_app.config["SITE_NAME"],
        "slug": campaign.slug,
        "title": campaign.title,
        "summary": campaign.lead,
        "targets": [{"name": line.strip()} for line in campaign.targets.splitlines() if line.strip()],
        "organisation": {"name": campaign.organisation.name},
        "total_signatures": snap["count"],
        "goal": snap["goal"],
        "status": campaign.status.value,
        "accepting_signatures": campaign.is_open,
        "deadline": iso_utc(campaign.deadline),
        "created_date": iso_utc(campaign.created_at),
        "modified_date": iso_utc(campaign.updated_at),
        "languages": [campaign.language],
        "browser_url": public_url("campaigns.show", slug=campaign.slug),
        "_links": {
            "self": {"href": public_url("api.campaign", slug=campaign.slug)},
            "count": {"href": public_url("api.campaign_count", slug=campaign.slug)},
        },
    }


def count_resource(snap: dict[str, Any]) -> dict[str, Any]:
    return {"slug": snap["slug"], "total_signatures": snap["count"], "goal": snap["goal"],
            "accepting_signatures": snap["open"]}


def public_campaign(slug: str) -> Campaign | None:
    return db.session.execute(select(Campaign).where(Campaign.slug == slug, IS_PUBLIC)).scalar_one_or_none()


def current_slug(old_slug: str) -> str | None:
    """The address a renamed public campaign lives at now, if this was one of its former addresses."""
    campaign = renamed_campaign(old_slug)
    return campaign.slug if campaign is not None else None


def campaign_page(page: int, per_page: int) -> dict[str, Any]:
    """One page of public campaigns, newest first: one COUNT and one SELECT."""
    total = db.session.execute(select(func.count()).select_from(Campaign).where(IS_PUBLIC)).scalar_one()
    rows = db.session.execute(
        select(Campaign).where(IS_PUBLIC).order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    pages = max(1, -(-total // per_page))
    links = {"self": {"href": public_url("api.campaigns", page=page, per_page=per_page)}}
    if page < pages:
        links["next"] = {"href": public_url("api.campaigns", page=page + 1, per_page=per_page)}
    if page > 1:
        links["prev"] = {"href": public_url("api.campaigns", page=min(page - 1, pages), per_page=per_page)}
    return {
        "total_records": total,
        "total_pages": pages,
        "page": page,
        "per_page": per_page,
        "_embedded": {"campaigns": [campaign_resource(c) for c in rows]},
        "_links": links,
    }

"""Signature counts: exact in the database, cheap to read through a short-lived cache."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from petition_app.extensions import db
from petition_app.models import Campaign, Signature

LADDER = (1, 2, 5)


def next_goal(count: int, goal: int, fixed: bool) -> int:
    """The goal to show: the campaign's own until reached, then the next step of the 1-2-5 ladder."""
    if fixed or count < goal:
        return goal
    scale = 1
    while True:
        for step in LADDER:
            candidate = step * scale
            if candidate > count and candidate > goal:
                return candidate
        scale *= 10


def snapshot(campaign: Campaign) -> dict[str, Any]:
    """What a counter shows, as plain data that can be cached."""
    count = campaign.total_count
    return {
        "slug": campaign.slug,
        "count": count,
        "goal": next_goal(count, campaign.goal, campaign.goal_fixed),
        "open": campaign.is_open,
    }


def _cache():
    return current_app.extensions["petition_cache"]


def cached_snapshot(slug: str) -> dict[str, Any] | None:
    """The counter for a public campaign, from the cache when fresh; None when there is no such campaign."""
    key = f"counter:{slug}"
    found = _cache().get(key)
    if found is not None:
        return found or None
    from petition_app.campaigns.queries import IS_PUBLIC

    campaign = db.session.execute(select(Campaign).where(Campaign.slug == slug, IS_PUBLIC)).scalar_one_or_none()
    value = snapshot(campaign) if campaign is not None else {}
    _cache().set(key, value, current_app.config["COUNTER_CACHE_SECONDS"])
    return value or None


def forget(slug: str) -> None:
    _cache().delete(f"counter:{slug}")


def add(campaign_id: int, delta: int) -> None:
    """Move a campaign's count inside the caller's transaction with one atomic UPDATE (no read-modify-write)."""
    db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(signature_count=Campaign.signature_count + delta)
        .execution_options(synchronize_session=False)
    )


def recount(campaign: Campaign) -> int:
    """Repair a campaign's stored count from its rows; returns the corrected count."""
    query = select(func.count()).select_from(Signature).where(Signature.campaign_id == campaign.id)
    if campaign.count_confirmed_only:
        query = query.where(Signature.confirmed_at.is_not(None))
    counted = db.session.execute(query).scalar_one()
    campaign.signature_count = counted
    db.session.commit()
    forget(campaign.slug)
    return counted

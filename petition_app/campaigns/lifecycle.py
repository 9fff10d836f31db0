"""A campaign's status: one transition table, one function that changes it (audited), and closing at the deadline.

The admin, the worker, `flask purge` and page views all close campaigns through `change_status`, so a campaign
whose deadline has passed is closed for real (status, `closed_at`, lists, retention) whether or not anyone visits.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from petition_app import audit, counts, webhooks
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus

log = logging.getLogger(__name__)

TRANSITIONS: dict[CampaignStatus, tuple[CampaignStatus, ...]] = {
    CampaignStatus.DRAFT: (CampaignStatus.OPEN,),
    CampaignStatus.OPEN: (CampaignStatus.CLOSED,),
    CampaignStatus.CLOSED: (CampaignStatus.OPEN, CampaignStatus.DELIVERED),
    CampaignStatus.DELIVERED: (),
}


def as_utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (SQLite hands back naive UTC values, PostgreSQL aware ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def can_change(campaign: Campaign, to: CampaignStatus | None) -> bool:
    return to is not None and to in TRANSITIONS[campaign.status]


def change_status(campaign: Campaign, to: CampaignStatus, *, closed_at: datetime | None = None,
                  reason: str = "", actor: str | None = None) -> None:
    """Move the campaign along draft → open → closed → delivered (or closed → open), audited, and commit.

    The row is locked first (PostgreSQL), so two concurrent changes cannot both pass the transition check.
    """
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    db.session.refresh(campaign)
    if not can_change(campaign, to):
        db.session.rollback()
        raise ValueError(f"{campaign.status} → {to} is not allowed")
    before = campaign.status
    campaign.status = to  # stamps closed_at (models.campaign)
    if closed_at is not None:
        campaign.closed_at = closed_at
    detail = f"{before.value} → {to.value}" + (f" ({reason})" if reason else "")
    audit.record("campaign status", campaign.slug, campaign.organisation_id, detail, actor=actor)
    webhooks.campaign_status_changed(campaign, before, to)
    db.session.commit()
    counts.forget(campaign.slug)


def _overdue(now: datetime | None) -> list[Campaign]:
    now = now or datetime.now(timezone.utc)
    return list(db.session.execute(
        select(Campaign).where(Campaign.status == CampaignStatus.OPEN, Campaign.deadline.is_not(None),
                               Campaign.deadline <= now).order_by(Campaign.id)
    ).scalars())


def overdue_campaigns(now: datetime | None = None) -> list[str]:
    """The slugs of open campaigns whose deadline has passed (what close_past_deadline would close)."""
    return [campaign.slug for campaign in _overdue(now)]


def close_past_deadline(now: datetime | None = None) -> list[str]:
    """Close every open campaign whose deadline has passed, as of its deadline; returns their slugs."""
    closed = []
    for campaign in _overdue(now):
        deadline = as_utc(campaign.deadline)
        try:
            change_status(campaign, CampaignStatus.CLOSED, closed_at=deadline, reason="the deadline passed",
                          actor="deadline")
        except ValueError:  # closed meanwhile by someone else
            continue
        closed.append(campaign.slug)
    return closed


def init_app(app: Flask) -> None:
    """Page views close overdue campaigns too (at most every DEADLINE_CHECK_SECONDS per process), in case no
    worker runs."""
    state = {"next": 0.0}

    @app.before_request
    def close_overdue_campaigns():
        interval = current_app.config["DEADLINE_CHECK_SECONDS"]
        if time.monotonic() < state["next"]:
            return
        state["next"] = time.monotonic() + interval
        try:
            close_past_deadline()
        except SQLAlchemyError as error:  # a busy database must not cost the visitor their page
            db.session.rollback()
            log.warning("closing overdue campaigns failed: %s", type(error).__name__)

"""Closing at the deadline: the worker, `flask purge` and page views close overdue campaigns.

They close them through `campaigns.service.change_status` (the one transition table), so a campaign whose deadline
has passed is closed for real (status, `closed_at`, lists, retention) whether or not anyone visits.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from petition_app.campaigns.service import NotAllowed, change_status
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus

log = logging.getLogger(__name__)


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
        try:
            change_status(campaign, CampaignStatus.CLOSED, closed_at=campaign.deadline, reason="the deadline passed",
                          actor="deadline")
        except NotAllowed:  # closed meanwhile by someone else
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

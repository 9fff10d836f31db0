"""Signature counts: exact in the database, cheap to read through a short-lived cache.

A campaign's online count is `campaigns.signature_count` (the base `flask recount` folds into) plus the sum of its
rows in `campaign_counts`. Each signing transaction adds to one of COUNTER_SHARDS rows chosen at random, so on
PostgreSQL concurrent signers of one campaign do not all wait for the lock on one hot row.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, inspect, select, text, update
from sqlalchemy.orm import Session

from petition_app import fastpath
from petition_app.extensions import db, run
from petition_app.models import Campaign, CampaignCount, Signature

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
    campaign = db.session.execute(
        select(Campaign).where(Campaign.slug == slug, Campaign.is_public)).scalar_one_or_none()
    value = snapshot(campaign) if campaign is not None else {}
    _cache().set(key, value, current_app.config["COUNTER_CACHE_SECONDS"])
    return value or None


def forget(slug: str) -> None:
    """Drop the cached counter of a campaign (after a change of what it shows, not after every signature)."""
    _cache().delete(f"counter:{slug}")
    for language in current_app.config["LANGUAGES"]:
        _cache().delete(f"counter-html:{language}:{slug}")
        _cache().delete(f"counter-html:{language}:{language}/{slug}")  # the fragment of a version's page
    fastpath.forget(current_app)


# -- dropping cached counters after a commit ------------------------------------------------------------------------
# Whatever changes a campaign row (its status, goal, address, counting rule) or its starter's state drops the
# campaign's cached counters once the change is committed, whichever code path made it: nobody drops them by hand.

_PENDING = "counters_changed"


def forget_after_commit(slug: str) -> None:
    """Drop the campaign's cached counters once the current transaction commits (for changes made in raw SQL)."""
    db.session.info.setdefault(_PENDING, set()).add(slug)


def _note_changed_campaigns(session: Session, _flush_context) -> None:
    from petition_app.models import Starter

    slugs: set[str] = set()
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, Campaign) and (obj in session.new or obj in session.deleted
                                              or session.is_modified(obj)):
                history = inspect(obj).attrs.slug.history
                slugs.update(s for s in (obj.slug, *history.deleted) if s)
            elif isinstance(obj, Starter) and session.is_modified(obj) and obj.campaign is not None:
                slugs.add(obj.campaign.slug)
    if slugs:
        session.info.setdefault(_PENDING, set()).update(slugs)


def _forget_after_commit(session: Session) -> None:
    slugs = session.info.pop(_PENDING, None)
    if slugs and has_app_context():
        for slug in slugs:
            forget(slug)


def _discard_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


_listening = False


def init_app(app: Flask) -> None:
    global _listening
    if not _listening:  # the events are on the Session class: once per process, whatever the number of apps
        event.listen(Session, "after_flush", _note_changed_campaigns)
        event.listen(Session, "after_commit", _forget_after_commit)
        event.listen(Session, "after_rollback", _discard_after_rollback)
        _listening = True


def _shards() -> int:
    return max(1, int(current_app.config.get("COUNTER_SHARDS", 16)))


# The same SQL on SQLite and PostgreSQL. A text statement, compiled once: the dialects' insert().on_conflict_do_update()
# has no cache key, so SQLAlchemy would compile it again for every signature.
ADD_TO_SHARD = "ON CONFLICT (campaign_id, shard) DO UPDATE SET n = campaign_counts.n + excluded.n"
_UPSERT = text("INSERT INTO campaign_counts (campaign_id, shard, n) "  # noqa: S608 (constant text)
               f"VALUES (:campaign_id, :shard, :n) {ADD_TO_SHARD}")


def _upsert_statement():
    """INSERT ... ON CONFLICT DO UPDATE of one shard (or of many, given a list of parameter sets)."""
    return _UPSERT


def add(campaign_id: int, delta: int) -> None:
    """Move a campaign's count inside the caller's transaction: one atomic upsert on a random shard.

    SQL: INSERT INTO campaign_counts (campaign_id, shard, n) VALUES (:id, :shard, :delta)
         ON CONFLICT (campaign_id, shard) DO UPDATE SET n = campaign_counts.n + excluded.n
    """
    if delta:
        run(_upsert_statement(), {"campaign_id": campaign_id, "shard": random_shard(), "n": delta})


_ADD_ONE_IF = text("INSERT INTO campaign_counts (campaign_id, shard, n) "  # noqa: S608 (constant text)
                   f"SELECT :campaign_id, :shard, 1 WHERE :when {ADD_TO_SHARD}")


def add_one_if(campaign_id: int, when: bool) -> None:
    """Count one signature when `when`; the same statement either way (it inserts nothing when not), so that a
    signature that counts and one that does not ask the database the same."""
    run(_ADD_ONE_IF, {"campaign_id": campaign_id, "shard": random_shard(), "when": when})


def random_shard() -> int:
    return secrets.randbelow(_shards())


_CONFIRMATION = text(
    "INSERT INTO campaign_counts (campaign_id, shard, n) "  # noqa: S608 (constant text)
    f"SELECT id, :shard, 1 FROM campaigns WHERE id = :campaign_id AND count_confirmed_only {ADD_TO_SHARD}"
)


def add_confirmation(campaign_id: int) -> None:
    """Count a confirmation when the campaign counts confirmed signatures only: one statement (above), no read
    of the counting rule before it; a random shard, as for signatures."""
    run(_CONFIRMATION, {"campaign_id": campaign_id, "shard": random_shard()})


def recount(campaign: Campaign) -> int:
    """Fold a campaign's shards into its base and repair the count from its rows; returns the corrected count.

    Exact while people sign: every shard row exists and is locked (zeroed) before the rows are counted, so a
    signer either committed before the count or adds to a zeroed shard after it.
    """
    campaign_id, slug = campaign.id, campaign.slug
    db.session.commit()
    db.session.execute(_upsert_statement(), [{"campaign_id": campaign_id, "shard": s, "n": 0} for s in range(_shards())])
    db.session.commit()
    db.session.execute(
        update(CampaignCount).where(CampaignCount.campaign_id == campaign_id).values(n=0)
        .execution_options(synchronize_session=False)
    )
    query = select(func.count()).select_from(Signature).where(Signature.campaign_id == campaign_id)
    if campaign.count_confirmed_only:
        query = query.where(Signature.confirmed_at.is_not(None))
    counted = db.session.execute(query).scalar_one()
    db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id).values({Campaign.count_base: counted})
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    forget(slug)
    return counted

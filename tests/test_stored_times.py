"""Stored points in time come back as aware UTC datetimes on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Campaign
from petition_app.models.base import UTCDateTime

MOSCOW = timezone(timedelta(hours=3))


def test_every_datetime_column_uses_the_utc_type(app):
    naive_capable = [f"{table.name}.{column.name}" for table in db.metadata.sorted_tables for column in table.columns
                     if isinstance(column.type, sa.DateTime)]
    assert naive_capable == []
    utc_columns = [column for table in db.metadata.sorted_tables for column in table.columns
                   if isinstance(column.type, UTCDateTime)]
    assert len(utc_columns) >= 20


def test_a_deadline_written_in_another_zone_reads_back_as_the_same_instant_in_utc(app, make_campaign):
    campaign = make_campaign(slug="zoned", deadline=datetime(2030, 5, 1, 15, 30, tzinfo=MOSCOW))
    db.session.expire_all()
    deadline = db.session.get(Campaign, campaign.id).deadline
    assert deadline == datetime(2030, 5, 1, 12, 30, tzinfo=timezone.utc)
    assert deadline.utcoffset() == timedelta(0)
    assert deadline.tzinfo is timezone.utc


def test_selected_columns_and_aggregates_are_aware_utc_too(app, make_campaign):
    make_campaign(slug="aware", deadline=datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    db.session.expire_all()
    selected = db.session.execute(sa.select(Campaign.deadline).where(Campaign.slug == "aware")).scalar_one()
    earliest = db.session.execute(sa.select(sa.func.min(Campaign.created_at))).scalar_one()
    assert selected == datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc) and selected.tzinfo is timezone.utc
    assert earliest.tzinfo is timezone.utc
    assert timedelta(0) <= datetime.now(timezone.utc) - earliest < timedelta(minutes=5)


def test_a_naive_value_is_taken_as_utc(app, make_campaign):
    campaign = make_campaign(slug="naive", deadline=datetime(2030, 1, 1, 9, 0))
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).deadline == datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)

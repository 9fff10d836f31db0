"""Passing the deadline closes a campaign for real: status, closed_at, audit, admin and lists, retention."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from petition_app.campaigns.lifecycle import close_past_deadline
from petition_app.extensions import db
from petition_app.models import AuditEntry, Campaign, CampaignStatus, Signature
from petition_app.signing.service import SignatureInput, sign
from tests.conftest import log_in, make_user

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def status_of(campaign: Campaign) -> tuple[CampaignStatus, datetime | None]:
    db.session.expire_all()
    fresh = db.session.get(Campaign, campaign.id)
    return fresh.status, fresh.closed_at


def audit_details(slug: str) -> list[tuple[str, str]]:
    return [(e.actor, e.detail) for e in db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.target == slug).order_by(AuditEntry.id)).scalars()]


def three_campaigns(make_campaign, deadline_days_ago: float = 3):
    overdue = make_campaign(slug="overdue", title="Overdue campaign", count_confirmed_only=False,
                            deadline=NOW - timedelta(days=deadline_days_ago))
    later = make_campaign(slug="later", count_confirmed_only=False, deadline=NOW + timedelta(days=3))
    endless = make_campaign(slug="endless", count_confirmed_only=False)
    return overdue, later, endless


def test_the_worker_closes_campaigns_past_their_deadline_as_of_the_deadline_with_an_audit_entry(
        app, runner, make_campaign):
    overdue, later, endless = three_campaigns(make_campaign)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "overdue: closed, its deadline has passed" in result.output
    assert status_of(overdue) == (CampaignStatus.CLOSED, NOW - timedelta(days=3))
    assert status_of(later) == (CampaignStatus.OPEN, None)
    assert status_of(endless) == (CampaignStatus.OPEN, None)
    assert audit_details("overdue") == [("deadline", "open → closed (the deadline passed)")]
    assert audit_details("later") == []
    # Once closed it stays so; nothing is closed (or audited) twice.
    assert close_past_deadline() == []
    assert len(audit_details("overdue")) == 1


def test_closed_at_the_deadline_it_shows_closed_in_the_admin_and_the_lists(app, make_campaign):
    overdue, later, _ = three_campaigns(make_campaign)
    make_user("root@example.org", superuser=True)
    assert close_past_deadline() == ["overdue"]
    admin = log_in(app, "root@example.org")
    dashboard = admin.get("/admin/").get_data(as_text=True)
    [row] = [item for item in dashboard.split("<li") if "Overdue campaign" in item]
    assert "badge-closed" in row and "badge-open" not in row
    home = app.test_client().get("/").get_data(as_text=True)
    assert "/campaigns/later" in home
    public = app.test_client().get("/campaigns/overdue")
    assert public.status_code == 200 and 'name="first_name"' not in public.get_data(as_text=True)


def test_a_page_view_closes_an_overdue_campaign_when_no_worker_runs(app, make_campaign):
    overdue, later, _ = three_campaigns(make_campaign)
    assert status_of(overdue)[0] is CampaignStatus.OPEN
    assert app.test_client().get("/").status_code == 200
    assert status_of(overdue) == (CampaignStatus.CLOSED, NOW - timedelta(days=3))
    assert status_of(later)[0] is CampaignStatus.OPEN


def test_purge_closes_overdue_campaigns_and_counts_retention_from_their_deadline(app, runner, make_campaign):
    overdue, later, _ = three_campaigns(make_campaign, deadline_days_ago=-1)
    for campaign in (overdue, later):
        sign(campaign, SignatureInput("Anna", "Example", "anna@example.org", "DE", phone="+4915112345678"))
    overdue.deadline = NOW - timedelta(days=800)  # signed while open, long ago
    db.session.commit()
    dry = runner.invoke(args=["purge", "--dry-run"])
    assert "overdue: would close, its deadline has passed" in dry.output
    assert status_of(overdue) == (CampaignStatus.OPEN, None)

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "overdue: closed, its deadline has passed" in result.output
    assert "overdue: erased the personal data of 1 signatures" in result.output
    assert status_of(overdue) == (CampaignStatus.CLOSED, NOW - timedelta(days=800))
    rows = {s.campaign_id: s for s in db.session.execute(sa.select(Signature)).scalars()}
    assert (rows[overdue.id].first_name, rows[overdue.id].email, rows[overdue.id].phone) == ("", "", None)
    assert (rows[later.id].first_name, rows[later.id].phone) == ("Anna", "+4915112345678")


def test_reopening_a_campaign_closed_by_its_deadline_needs_a_new_deadline(app, make_campaign):
    from petition_app.campaigns.lifecycle import change_status

    overdue, _, _ = three_campaigns(make_campaign)
    close_past_deadline()
    campaign = db.session.get(Campaign, overdue.id)
    change_status(campaign, CampaignStatus.OPEN)
    assert status_of(overdue) == (CampaignStatus.OPEN, None)
    assert close_past_deadline() == ["overdue"]  # the old deadline still applies
    campaign = db.session.get(Campaign, overdue.id)
    change_status(campaign, CampaignStatus.OPEN)
    campaign.deadline = NOW + timedelta(days=1)
    db.session.commit()
    assert close_past_deadline() == []
    assert status_of(overdue)[0] is CampaignStatus.OPEN

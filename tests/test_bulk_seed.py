"""`flask demo bulk-signatures`: synthetic signatures for benchmarks, counted, readable like real ones."""

from __future__ import annotations

import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Campaign, Signature


def _rows(campaign_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Signature).where(Signature.campaign_id == campaign_id)).scalar_one()


def test_bulk_seed_adds_exactly_n_counted_signatures_and_can_run_again(app, runner, make_campaign, client):
    campaign = make_campaign(slug="bulk")
    result = runner.invoke(args=["demo", "bulk-signatures", "bulk", "5000"])
    assert result.exit_code == 0, result.output
    assert "bulk: 5000 signatures added" in result.output
    assert runner.invoke(args=["demo", "bulk-signatures", "bulk", "1234"]).exit_code == 0
    db.session.expire_all()
    assert _rows(campaign.id) == 6234
    assert db.session.get(Campaign, campaign.id).signature_count == 6234
    signature = db.session.execute(sa.select(Signature).where(Signature.campaign_id == campaign.id)).scalars().first()
    assert signature.email.endswith("@example.invalid") and signature.confirmed_at is not None
    assert "6,234" in client.get("/campaigns/bulk/counter").get_data(as_text=True)
    recount = runner.invoke(args=["recount"])
    assert "bulk: 6234 -> 6234" in recount.output


def test_bulk_seed_refuses_an_unknown_campaign_and_a_bad_number(runner):
    unknown = runner.invoke(args=["demo", "bulk-signatures", "nope", "10"])
    assert unknown.exit_code != 0 and "No campaign" in unknown.output
    assert runner.invoke(args=["demo", "bulk-signatures", "nope", "-5"]).exit_code != 0

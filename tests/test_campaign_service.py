"""The campaign's rules in one place: plain data in, one status table, one slug rule, one meaning of "public"."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from petition_app import counts
from petition_app.campaigns import service
from petition_app.campaigns.service import CampaignData, NotAllowed, slug_base
from petition_app.extensions import db
from petition_app.models import AuditEntry, Campaign, CampaignStatus, SlugRedirect, Starter, StarterState
from tests.conftest import log_in, make_org, make_user


@pytest.mark.parametrize(("title", "slug"), [
    ("Россия: стоп!", "rossiia-stop"),  # Russian
    ("Свобода зібрань для всіх", "svoboda-zibran-dlia-vsikh"),  # Ukrainian
    ("Їжак і ґанок", "izhak-i-ganok"),  # Ukrainian letters Russian lacks
    ("حقوق المثليين", "hqwq-lmthlyyn"),  # Arabic
    ("آزادی برای همه", "zdy-bry-hmh"),  # Persian
    ("同性婚姻合法化", "tong-xing-hun-yin-he-fa-hua"),  # Chinese
    ("Ça, c’est la fête", "ca-cest-la-fete"),
    ("🌈🌈", ""),
])
def test_titles_in_every_script_give_readable_ascii_slugs(title, slug):
    assert slug_base(title) == slug


def test_a_long_title_is_cut_at_a_word_boundary():
    slug = slug_base("word " * 40)
    assert len(slug) <= 80 and slug.endswith("word") and "--" not in slug


def test_create_from_plain_data_derives_a_unique_slug_and_audits(app):
    org = make_org("plain-org")
    first = service.create(CampaignData(title="Свобода слова", organisation_id=org.id, goal=50))
    second = service.create(CampaignData(title="Свобода слова", organisation_id=org.id))
    db.session.expire_all()
    assert (first.slug, second.slug) == ("svoboda-slova", "svoboda-slova-2")
    stored = db.session.get(Campaign, first.id)
    assert (stored.status, stored.goal, stored.title) == (CampaignStatus.DRAFT, 50, "Свобода слова")
    actions = db.session.execute(sa.select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in actions if a[0] == "campaign created"] == [
        ("campaign created", "svoboda-slova"), ("campaign created", "svoboda-slova-2")]


def test_a_former_address_counts_as_taken_and_a_rename_keeps_it_redirecting(app):
    org = make_org("rename-org")
    campaign = service.create(CampaignData(title="Old name", organisation_id=org.id))
    data = CampaignData.of(campaign)
    data.slug = "new-name"
    assert service.update(campaign, data) == ["slug"]
    assert db.session.get(SlugRedirect, "old-name").campaign_id == campaign.id
    assert service.slug_taken("old-name") and not service.slug_taken("old-name", campaign.id)
    assert service.unique_slug("Old name") == "old-name-2"


def test_update_with_unchanged_data_changes_nothing(app):
    org = make_org("same-org")
    campaign = service.create(CampaignData(title="Same", organisation_id=org.id))
    before = db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()
    assert service.update(campaign, CampaignData.of(campaign)) == []
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == before


def test_only_the_table_s_transitions_are_allowed(app, make_campaign):
    campaign = make_campaign(slug="table", status=CampaignStatus.DRAFT)
    with pytest.raises(NotAllowed):
        service.change_status(campaign, CampaignStatus.CLOSED)
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.DRAFT
    for step in (CampaignStatus.OPEN, CampaignStatus.CLOSED, CampaignStatus.DELIVERED):
        service.change_status(campaign, step)
    with pytest.raises(NotAllowed):
        service.change_status(campaign, CampaignStatus.OPEN)
    details = db.session.execute(sa.select(AuditEntry.detail).where(AuditEntry.action == "campaign status")
                                 .order_by(AuditEntry.id)).scalars().all()
    assert details == ["draft → open", "open → closed", "closed → delivered"]


def _taken_down(make_campaign) -> Campaign:
    campaign = make_campaign(slug="taken-down", status=CampaignStatus.CLOSED)
    db.session.add(Starter(campaign_id=campaign.id, public_name="S", email="s@example.org", email_hash="h",
                           state=StarterState.TAKEN_DOWN))
    db.session.commit()
    return campaign


def test_public_means_the_same_in_python_and_in_sql(app, make_campaign):
    draft = make_campaign(slug="a-draft", status=CampaignStatus.DRAFT)
    open_one = make_campaign(slug="an-open-one")
    taken_down = _taken_down(make_campaign)
    db.session.expire_all()
    in_sql = set(db.session.execute(sa.select(Campaign.slug).where(Campaign.is_public)).scalars())
    in_python = {c.slug for c in db.session.execute(sa.select(Campaign)).scalars() if c.is_public}
    assert in_sql == in_python == {open_one.slug}
    assert draft.slug not in in_sql and taken_down.slug not in in_sql


def test_the_admin_does_not_link_a_taken_down_campaign_s_public_page(app, make_campaign, client):
    campaign = _taken_down(make_campaign)
    make_user("viewer@example.org", superuser=True)
    admin = log_in(app, "viewer@example.org")
    page = admin.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert f'href="/campaigns/{campaign.slug}"' not in page
    assert client.get(f"/campaigns/{campaign.slug}").status_code == 404


def test_a_committed_change_drops_the_cached_counter_and_a_rolled_back_one_does_not(app, make_campaign):
    campaign = make_campaign(slug="cached", goal=100)
    assert counts.cached_snapshot("cached")["goal"] == 100
    campaign.goal = 500
    db.session.flush()
    db.session.rollback()
    assert counts.cached_snapshot("cached")["goal"] == 100  # still the cached value
    campaign = db.session.get(Campaign, campaign.id)
    campaign.goal = 700
    db.session.commit()
    assert counts.cached_snapshot("cached")["goal"] == 700


def test_a_rename_drops_the_counter_cached_under_the_old_address(app, make_campaign):
    campaign = make_campaign(slug="before-rename")
    assert counts.cached_snapshot("before-rename") is not None
    data = CampaignData.of(campaign)
    data.slug = "after-rename"
    service.update(campaign, data)
    assert counts.cached_snapshot("before-rename") is None
    assert counts.cached_snapshot("after-rename")["slug"] == "after-rename"

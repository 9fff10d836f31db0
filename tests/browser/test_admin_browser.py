"""An NGO owner on a phone: logs in, edits the campaign text, adds an update, reads the chart and the country
table, and downloads the delivery list (names and countries only)."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from petition_app.extensions import db
from petition_app.models import Campaign, Membership, Organisation, Role, Signature, User
from petition_app.passwords import hash_password
from petition_app.signing.service import SignatureInput, confirm, sign

SLUG = "russia-oppose-lgbt-criminalization"
PASSWORD = "correct horse battery staple"


def _owner_and_signatures(app) -> int:
    with app.app_context():
        org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "sphere-foundation")).scalar_one()
        user = User(email="owner@sphere.example.org", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=Role.OWNER))
        db.session.commit()
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        for i, (first, last, country) in enumerate([("Anna", "Ivanova", "DE"), ("Jean", "Dupont", "FR"),
                                                    ("Greta", "Berg", "DE")]):
            sign(campaign, SignatureInput(first, last, f"s{i}@example.org", country, phone="+49 151 0000000"))
        for signature in db.session.execute(sa.select(Signature).where(Signature.campaign_id == campaign.id)).scalars():
            confirm(signature)
        campaign_id = campaign.id
        db.session.remove()
        return campaign_id


def test_owner_edits_campaign_on_a_phone_and_downloads_the_delivery_list(page: Page, served_app, artifacts_dir):
    campaign_id = _owner_and_signatures(served_app)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.get_by_label("Email").fill("owner@sphere.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Russia: Oppose LGBT+ Community Criminalization").first.click()

    # statistics: chart and country table
    expect(page.locator("svg.chart, .chart svg, svg").first).to_be_visible()
    expect(page.get_by_text("Germany").first).to_be_visible()
    page.screenshot(path=artifacts_dir / "admin-campaign-phone.png", full_page=True)

    # edit the lead
    page.goto(f"/admin/campaigns/{campaign_id}/edit")
    lead = page.get_by_label("Lead paragraph")
    lead.fill("An edited lead, written on a phone.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto(f"/campaigns/{SLUG}")
    expect(page.get_by_text("An edited lead, written on a phone.")).to_be_visible()

    # add a dated update
    page.goto(f"/admin/campaigns/{campaign_id}/updates")
    page.get_by_label("Date").fill("2026-11-20")
    page.get_by_label("Text", exact=True).fill("Signatures were handed over today.")
    page.get_by_role("button", name="Publish the update").click()
    page.goto(f"/campaigns/{SLUG}")
    expect(page.get_by_text("Signatures were handed over today.")).to_be_visible()
    expect(page.get_by_text("Update – 20 November 2026")).to_be_visible()

    # delivery list: first name, last name, country, nothing else
    page.goto(f"/admin/campaigns/{campaign_id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Delivery list (CSV)").click()
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["first_name", "last_name", "country"]
    assert sorted(rows[1:]) == [["Anna", "Ivanova", "DE"], ["Greta", "Berg", "DE"], ["Jean", "Dupont", "FR"]]
    assert "@" not in content and "+49" not in content

"""A campaign in two languages in a real Chromium on a phone: an editor adds the Russian version side by side with
the English source, a supporter signs the Russian page, and both versions show one count."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from petition_app.extensions import db
from petition_app.models import Campaign, CampaignTranslation, Membership, Organisation, Role, Signature, User
from petition_app.passwords import hash_password

SLUG = "fifa-tell-qatar-love-is-not-a-crime"  # All Out's; no Russian version in the demo
PASSWORD = "correct horse battery staple"
TITLE_RU = "ФИФА: скажите Катару, что любовь — не преступление"


def _editor(app) -> int:
    with app.app_context():
        org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "all-out")).scalar_one()
        user = User(email="editor@allout.example.org", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=Role.EDITOR))
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        campaign.count_confirmed_only = False  # signing moves the count at once
        db.session.commit()
        campaign_id = campaign.id
        db.session.remove()
        return campaign_id


def _number(shown: str) -> int:
    return int(re.sub(r"\D", "", shown))


def _sideways(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_an_editor_adds_a_russian_version_and_a_supporter_signs_it(page: Page, served_app, artifacts_dir):
    campaign_id = _editor(served_app)
    page.goto("/admin/login")
    page.get_by_label("Email").fill("editor@allout.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"/admin/campaigns/{campaign_id}")
    page.get_by_role("link", name="Add a version in Russian").click()
    expect(page).to_have_url(re.compile(rf"/admin/campaigns/{campaign_id}/translations/ru$"))
    # The source is beside (on a phone: above) each field, read-only.
    expect(page.locator(".translation-source").first).to_contain_text("FIFA: Tell Qatar Love Is Not A Crime")
    page.get_by_label("Title", exact=True).fill(TITLE_RU)
    page.get_by_label("Lead paragraph").fill("Подпишите петицию.")
    page.get_by_label("Demands").fill("Первое требование")
    assert _sideways(page) <= 0
    page.screenshot(path=artifacts_dir / "admin-translation-phone.png", full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".version-list")).to_contain_text("Up to date")

    supporter = page.context.browser.new_context(base_url=page.url.split("/admin")[0],
                                                 viewport={"width": 390, "height": 844}, is_mobile=True,
                                                 has_touch=True, locale="en-US")
    visitor = supporter.new_page()
    visitor.goto(f"/campaigns/{SLUG}")
    expect(visitor.locator("h1")).to_have_text("FIFA: Tell Qatar Love Is Not A Crime")
    visitor.get_by_role("link", name="Русский", exact=True).last.click()
    expect(visitor).to_have_url(re.compile(rf"/ru/campaigns/{SLUG}$"))
    expect(visitor.locator("html")).to_have_attribute("lang", "ru")
    expect(visitor.locator("h1")).to_have_text(TITLE_RU)
    before = visitor.locator("#counter-top .count strong").inner_text()

    form = visitor.locator("#sign-region form.sign-form")
    form.locator("[name=first_name]").fill("Анна")
    form.locator("[name=last_name]").fill("Иванова")
    form.locator("[name=email]").fill("anna@example.org")
    form.locator("[name=country]").select_option("DE")
    form.locator("button[type=submit]").click()
    expect(visitor.locator("#counter-top .count strong")).not_to_have_text(before)
    after = _number(visitor.locator("#counter-top .count strong").inner_text())
    assert after == _number(before) + 1
    assert _sideways(visitor) <= 0
    visitor.screenshot(path=artifacts_dir / "campaign-russian-version-phone.png", full_page=True)

    # The English version shows the same count (the live counter is polled every second).
    visitor.goto(f"/campaigns/{SLUG}")
    expect(visitor.locator("#counter-top .count strong")).to_have_text(f"{after:,}", timeout=5000)
    supporter.close()

    with served_app.app_context():
        signed = db.session.execute(sa.select(Signature.language).join(Campaign).where(Campaign.slug == SLUG)).all()
        versions = db.session.execute(sa.select(CampaignTranslation.language).join(Campaign)
                                      .where(Campaign.slug == SLUG)).scalars().all()
        db.session.remove()
    assert [row.language for row in signed] == ["ru"] and versions == ["ru"]

"""The campaign edit form in real Chromium: its height on a phone, Save always in reach, the error summary that
takes the focus and links each wrong field, collapsible previews, a wide form on a desktop, and the preview of a
draft as its public page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Membership, Organisation, Role, User
from petition_app.passwords import hash_password

SLUG = "russia-oppose-lgbt-criminalization"
PASSWORD = "correct horse battery staple"
EMAIL = "editor@sphere.example.org"


def _editor(app) -> int:
    with app.app_context():
        org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "sphere-foundation")).scalar_one()
        user = User(email=EMAIL, password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=Role.EDITOR))
        db.session.commit()
        campaign_id = db.session.execute(sa.select(Campaign.id).where(Campaign.slug == SLUG)).scalar_one()
        db.session.remove()
        return campaign_id


def _log_in(page: Page) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/admin/login"))


def _form_height(page: Page) -> int:
    return page.evaluate("Math.round(document.querySelector('form.admin-form').getBoundingClientRect().height)")


def test_edit_form_height_on_a_phone_is_measured_and_save_stays_in_view(page: Page, served_app, artifacts_dir):
    campaign_id = _editor(served_app)
    _log_in(page)
    page.goto(f"/admin/campaigns/{campaign_id}/edit")
    height = _form_height(page)
    page_height = page.evaluate("document.documentElement.scrollHeight")
    print(f"\ncampaign form height on a 390 px phone: {height} px (page {page_height} px)")
    (artifacts_dir / "campaign-form-height.txt").write_text(f"{height}\n")
    page.screenshot(path=artifacts_dir / "campaign-form-phone.png", full_page=True)

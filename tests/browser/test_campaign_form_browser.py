"""The campaign edit form in real Chromium: its height on a phone, Save always in reach, the error summary that
takes the focus and links each wrong field, collapsible previews, a wide form on a desktop, and the preview of a
draft as its public page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

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


def _save_in_view(page: Page) -> bool:
    box = page.get_by_role("button", name="Save", exact=True).bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_edit_form_height_on_a_phone_is_measured_and_save_stays_in_view(page: Page, served_app, artifacts_dir):
    campaign_id = _editor(served_app)
    _log_in(page)
    page.goto(f"/admin/campaigns/{campaign_id}/edit")
    height = _form_height(page)
    page_height = page.evaluate("document.documentElement.scrollHeight")
    print(f"\ncampaign form height on a 390 px phone: {height} px (page {page_height} px)")
    (artifacts_dir / "campaign-form-height.txt").write_text(f"{height}\n")
    page.screenshot(path=artifacts_dir / "campaign-form-phone.png", full_page=True)
    assert height < 6000  # 8,296 px before the previews were folded away

    # Save is on screen at the top, in the middle and at the end of the form, without scrolling to it.
    assert _save_in_view(page)
    page.get_by_role("link", name="Privacy and mail").click()
    assert _save_in_view(page)
    page.get_by_label("Discreet mail").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()


def test_errors_are_summarised_first_with_the_focus_and_each_link_leads_to_its_field(page: Page, served_app):
    campaign_id = _editor(served_app)
    _log_in(page)
    page.goto(f"/admin/campaigns/{campaign_id}/edit")
    page.get_by_label("Title", exact=True).fill("")
    page.get_by_label("Goal", exact=True).fill("0")
    page.get_by_role("button", name="Save", exact=True).click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.first).to_have_text(re.compile(r"^Title: "))
    page.get_by_role("link", name=re.compile(r"^Goal: ")).click()
    expect(page.locator("#goal")).to_be_in_viewport()
    expect(page).to_have_url(re.compile(r"#goal$"))


def test_the_form_works_without_javascript_and_spans_a_desktop(browser, served_app, live_app, artifacts_dir):
    campaign_id = _editor(served_app)
    context = browser.new_context(base_url=live_app, java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _log_in(page)
        page.goto(f"/admin/campaigns/{campaign_id}/edit")
        width = page.evaluate("document.querySelector('form.admin-form').getBoundingClientRect().width")
        assert width > 1000, width  # the public pages' 44rem column would give 672 px
        assert _save_in_view(page)

        # Previews are folded; the no-JavaScript preview button unfolds them with the unsaved text.
        body_preview = page.locator("#body-preview")
        expect(body_preview).to_be_hidden()
        page.get_by_label("Body", exact=True).fill("Unsaved *preview* text.")
        page.get_by_role("button", name="Preview the texts").click()
        expect(page.locator("#body-preview em")).to_have_text("preview")
        page.screenshot(path=artifacts_dir / "campaign-form-desktop.png")

        page.get_by_label("Title", exact=True).fill("")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#error-summary")).to_be_focused()  # autofocus, no script
        page.get_by_label("Title", exact=True).fill("Saved without JavaScript")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("heading", name="Saved without JavaScript", level=1)).to_be_visible()
    finally:
        context.close()


def test_an_editor_previews_a_draft_with_signing_switched_off(page: Page, served_app, artifacts_dir):
    _editor(served_app)
    with served_app.app_context():
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        draft = Campaign(slug="draft-preview", organisation_id=campaign.organisation_id, title="The draft to check",
                         lead="Not out yet.", body="Draft **body**.", status=CampaignStatus.DRAFT, goal=100)
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
        db.session.remove()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _log_in(page)
    page.goto(f"/admin/campaigns/{draft_id}")
    page.get_by_role("link", name="Preview the page").click()
    expect(page.get_by_role("heading", name="Preview — not public")).to_be_visible()
    expect(page.get_by_role("heading", name="The draft to check", level=1)).to_be_visible()
    sign = page.locator(".preview-sign").get_by_role("button", name="Sign", exact=True)
    expect(sign).to_be_disabled()
    page.screenshot(path=artifacts_dir / "campaign-preview-phone.png", full_page=True)
    page.wait_for_timeout(1500)  # a counter that polled would have failed by now (the draft has no public page)
    assert errors == []

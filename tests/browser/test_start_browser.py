"""Proposing a campaign in a real Chromium on a phone-sized screen, with JavaScript: checks as you go, then submit."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from petition_app.extensions import db
from petition_app.models import Starter, StarterState


def starters(app) -> list[tuple[str, StarterState]]:
    with app.app_context():
        rows = db.session.execute(sa.select(Starter.public_name, Starter.state)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_proposal_form_checks_fields_as_you_go_and_submits_in_place(page: Page, served_app, artifacts_dir):
    page.goto("/start")
    assert page.viewport_size == {"width": 390, "height": 844}
    expect(page.get_by_role("heading", name="Start your campaign", level=1)).to_be_visible()
    url = page.url
    documents: list[str] = []
    page.on("request", lambda request: documents.append(request.url) if request.resource_type == "document" else None)
    page.evaluate("window.__marker = 1")

    form = page.locator("form.start-form")
    form.get_by_label("Name of your group, or your own name").fill("Coming Out LGBT group")
    email = form.get_by_label("Your email address")
    email.fill("not-an-email")
    email.press("Tab")  # leaving the field fires "change": htmx posts the form to /start/check

    email_error = page.locator("#email-field .field-error")
    expect(email_error).to_be_visible()
    expect(email_error).to_contain_text("This does not look like an email address")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email")).to_have_attribute("aria-describedby", "email-hint email-error")
    expect(page.locator("#email")).to_have_value("not-an-email")
    # Only the field that changed got a message, and the focus stayed where the visitor put it.
    expect(page.locator(".field-error")).to_have_count(1)
    assert page.evaluate("document.activeElement.id") == "title"
    page.screenshot(path=artifacts_dir / "start-inline-error-phone.png", full_page=True)

    email.fill("starter@example.org")
    email.press("Tab")
    expect(page.locator("#email-field .field-error")).to_have_count(0)
    expect(page.locator("#email")).not_to_have_attribute("aria-invalid", "true")

    form.get_by_label("Title of the petition").fill("Stop the ban on Pride marches")
    form.get_by_label("Summary").fill("The city council banned every Pride march for five years.")
    form.get_by_label("Why it matters").fill("Pride is a **peaceful** assembly, protected by the constitution.")
    form.get_by_label("Who can make this change?").fill("The city council")
    form.get_by_label("What do you ask of them?").fill("Lift the ban\nMeet the organisers")
    form.get_by_label("Signature goal").fill("2500")
    form.get_by_label("Language of the petition").select_option("en")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name="Send my proposal").click()

    sent = page.locator("#start-sent")
    expect(sent.get_by_role("heading", name="Check your mailbox")).to_be_visible()
    expect(page.locator("form.start-form")).to_have_count(0)
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert documents == [] and page.url == url
    assert starters(served_app) == [("Coming Out LGBT group", StarterState.UNCONFIRMED)]
    page.screenshot(path=artifacts_dir / "start-check-your-mailbox-phone.png", full_page=True)

"""Signing a petition in a real Chromium on a phone-sized screen, with and without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from petition_app.extensions import db
from petition_app.models import Campaign, Signature
from petition_app.signing.service import Outcome, SignatureInput, confirm, sign

STARTER = "no-more-closed-doors-russian-transgender-people"  # 7,440 offline signatures
FRESH = "russia-oppose-lgbt-criminalization"  # starts at 0, goal 60,000
THANKS = "Thank you for signing!"
# Without JavaScript the signer lands on /thanks, which is the same for every visitor (and may be cached).
THANKS_PAGE = "If you have just signed, please check your mailbox"


def fill_sign_form(page: Page, *, first_name="Anna", last_name="Ivanova", email="anna@example.org", country="DE"):
    form = page.locator("#sign-region form.sign-form")
    form.get_by_label("First name", exact=True).fill(first_name)
    form.get_by_label("Last name", exact=True).fill(last_name)
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Country", exact=True).select_option(country)
    form.get_by_label("Yes, email me about this campaign").check()
    return form


def count_of(page: Page, counter_id: str):
    return page.locator(f"#{counter_id} .count strong")


def signatures_stored(app, slug: str) -> int:
    with app.app_context():
        stored = db.session.execute(
            sa.select(sa.func.count()).select_from(Signature).join(Campaign).where(Campaign.slug == slug)
        ).scalar_one()
        db.session.remove()
    return stored


def count_every_signature(app, slug: str) -> None:
    """Opt the campaign in to counting unconfirmed signatures, so that signing moves the count at once."""
    with app.app_context():
        db.session.execute(sa.update(Campaign).where(Campaign.slug == slug).values(count_confirmed_only=False))
        db.session.commit()


def test_signing_with_javascript_updates_both_counters_without_reload(page: Page, live_app, served_app, artifacts_dir):
    count_every_signature(served_app, STARTER)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(f"/campaigns/{STARTER}")
    url = page.url
    expect(count_of(page, "counter-top")).to_have_text("7,440")
    expect(count_of(page, "counter-form")).to_have_text("7,440")
    page.screenshot(path=artifacts_dir / "campaign-page-phone.png", full_page=True)

    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    documents: list[str] = []
    page.on("request", lambda request: documents.append(request.url) if request.resource_type == "document" else None)
    page.evaluate("window.__marker = 1")

    form = fill_sign_form(page)
    form.get_by_role("button", name="Sign", exact=True).click()

    thanks = page.locator("#thanks")
    expect(thanks.get_by_role("heading", name=THANKS)).to_be_visible()
    expect(count_of(page, "counter-top")).to_have_text("7,441")
    expect(count_of(page, "counter-form")).to_have_text("7,441")

    assert page.evaluate("window.__marker") == 1, "the page was reloaded: the JavaScript state is gone"
    assert navigations == [], f"the main frame navigated: {navigations}"
    assert documents == [], f"a new document was requested: {documents}"
    assert page.url == url
    assert hosts == {urlsplit(live_app).netloc}, f"other hosts were contacted: {hosts}"
    expect(page.locator("form.sign-form")).to_have_count(0)
    assert signatures_stored(served_app, STARTER) == 1
    page.screenshot(path=artifacts_dir / "thank-you-javascript-phone.png", full_page=True)


def test_signing_with_javascript_disabled_lands_on_thank_you_page(new_context, served_app, artifacts_dir):
    count_every_signature(served_app, STARTER)
    context = new_context(java_script_enabled=False)  # phone viewport and base URL come from browser_context_args
    page = context.new_page()
    page.goto(f"/campaigns/{STARTER}")
    assert page.evaluate("typeof window") == "object"  # Playwright's own evaluation still works...
    assert page.evaluate("typeof window.htmx") == "undefined"  # ...but the page's scripts did not run
    expect(count_of(page, "counter-top")).to_have_text("7,440")

    form = fill_sign_form(page)
    form.get_by_role("button", name="Sign", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/campaigns/{STARTER}/thanks(#sign)?$"))  # #sign: the form's action
    expect(page.get_by_role("heading", name=THANKS_PAGE, level=1)).to_be_visible()
    expect(count_of(page, "counter-form")).to_have_text("7,441")
    assert signatures_stored(served_app, STARTER) == 1
    page.screenshot(path=artifacts_dir / "thank-you-no-javascript-phone.png", full_page=True)


def test_invalid_input_shows_field_errors_with_javascript(page: Page, served_app, artifacts_dir):
    count_every_signature(served_app, STARTER)
    page.goto(f"/campaigns/{STARTER}")
    url = page.url
    page.evaluate("window.__marker = 1")

    form = fill_sign_form(page, first_name="", email="not-an-email")
    form.get_by_role("button", name="Sign", exact=True).click()

    first_error = page.locator(".field:has(#first_name) .field-error")
    email_error = page.locator(".field:has(#email) .field-error")
    expect(first_error).to_be_visible()
    expect(first_error).to_contain_text("Please enter your first name.")
    expect(email_error).to_be_visible()
    expect(email_error).to_contain_text("This does not look like an email address")
    # The messages are tied to their fields for screen readers too.
    expect(page.locator("#first_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#first_name")).to_have_attribute("aria-describedby", re.compile(r"\bfirst_name-error\b"))
    expect(page.locator("#email")).to_have_attribute("aria-describedby", re.compile(r"\bemail-error\b"))
    expect(page.locator(".field:has(#last_name) .field-error")).to_have_count(0)
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields marked below.")
    # The focus goes to the summary of errors, not back to <body>, so a screen reader reads it at once.
    expect(page.locator("#error-summary")).to_be_focused()

    # What was typed is kept.
    expect(page.locator("#last_name")).to_have_value("Ivanova")
    expect(page.locator("#email")).to_have_value("not-an-email")
    expect(page.locator("#country")).to_have_value("DE")

    # Nothing was counted and the page did not reload.
    expect(page.locator("#thanks")).to_have_count(0)
    expect(count_of(page, "counter-top")).to_have_text("7,440")
    expect(count_of(page, "counter-form")).to_have_text("7,440")
    assert page.evaluate("window.__marker") == 1
    assert page.url == url
    assert signatures_stored(served_app, STARTER) == 0
    page.screenshot(path=artifacts_dir / "field-errors-javascript-phone.png", full_page=True)

    # Corrected in place, the same form goes through.
    page.locator("#first_name").fill("Anna")
    page.locator("#email").fill("anna@example.org")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    expect(count_of(page, "counter-top")).to_have_text("7,441")
    assert page.evaluate("window.__marker") == 1


def test_counter_polls_new_signatures(page: Page, served_app):
    page.goto(f"/campaigns/{FRESH}")
    expect(count_of(page, "counter-top")).to_have_text("0")
    trigger = page.locator("#counter-top").get_attribute("data-hx-trigger")
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if request.url.endswith("/counter") else None)
    page.evaluate("window.__marker = 1")

    with served_app.app_context():
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == FRESH)).scalar_one()
        outcome = sign(campaign, SignatureInput(first_name="Boris", last_name="Petrov", email="boris@example.org",
                                                country="DE"))
        confirm(db.session.execute(sa.select(Signature).where(Signature.campaign_id == campaign.id)).scalar_one())
        db.session.remove()
    assert outcome is Outcome.SIGNED

    # Polled every second (COUNTER_POLL_SECONDS=1) and not cached (COUNTER_CACHE_SECONDS=0): the new count
    # shows within a few seconds, without a reload.
    expect(
        page.locator("#counter-top .count"),
        f"#counter-top did not pick up the new signature; its hx-trigger is {trigger!r} "
        f"and it made {len(polls)} request(s) to /counter",
    ).to_contain_text("1 person has signed", timeout=5_000)
    expect(count_of(page, "counter-form")).to_have_text("1")
    assert trigger == "every 1s"
    assert page.evaluate("window.__marker") == 1

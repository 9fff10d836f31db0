"""The sign and /start flows in Chromium on a phone: where the focus and the view go after an error, with and
without JavaScript, and not one console error or warning on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.test_sign_browser import STARTER, count_of, fill_sign_form

# An invalid form is answered 422 by design (htmx's responseHandling swaps it in; the rate limit on /start
# counts only accepted proposals), and Chromium logs every 4xx fetch. Any other error or warning fails.
EXPECTED = "Failed to load resource: the server responded with a status of 422"


@pytest.fixture
def console(page: Page) -> list[str]:
    messages: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not message.text.startswith(EXPECTED):
            messages.append(f"{message.type}: {message.text}")

    page.on("console", record)
    page.on("pageerror", lambda error: messages.append(f"uncaught: {error}"))
    return messages


def _in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    return box is not None and 0 <= box["y"] < viewport["height"]


def test_invalid_htmx_signature_moves_focus_to_the_error_summary_and_no_console_error(page: Page, console,
                                                                                     artifacts_dir):
    page.goto(f"/campaigns/{STARTER}")
    form = fill_sign_form(page, first_name="", email="not-an-email")
    form.get_by_role("button", name="Sign", exact=True).click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    page.screenshot(path=artifacts_dir / "sign-error-summary-javascript-phone.png")
    summary.get_by_role("link", name=re.compile("email address")).click()
    expect(page.locator("#email")).to_be_focused()

    page.locator("#first_name").fill("Anna")
    page.locator("#email").fill("anna@example.org")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#thanks")).to_be_focused()
    expect(count_of(page, "counter-top")).to_have_text("7,440")  # counted once the mail is confirmed
    page.wait_for_timeout(1500)  # the "signed" event refreshes "More ways to take action"
    assert console == []


def test_invalid_signature_without_javascript_opens_at_the_form_with_the_summary_first(new_context, artifacts_dir):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"/campaigns/{STARTER}")
    form = fill_sign_form(page, first_name="", email="not-an-email")
    form.get_by_role("button", name="Sign", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/campaigns/{STARTER}/sign#sign$"))
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert page.evaluate("window.scrollY") > 500, "the page opened at its top, far from the errors"
    assert _in_view(page, "#error-summary")
    # The summary comes before the fields, so the next Tab reaches its first link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#first_name"
    expect(page.locator("#last_name")).to_have_value("Ivanova")
    expect(page.locator("#email")).to_have_value("not-an-email")
    expect(page.locator("#country")).to_have_value("DE")
    page.screenshot(path=artifacts_dir / "sign-error-summary-no-javascript-phone.png")

    page.locator("#first_name").fill("Anna")
    page.locator("#email").fill("anna@example.org")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{STARTER}/thanks(#sign)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("If you have just signed, please check your mailbox")


def test_start_flow_has_no_console_error_and_the_sent_state_stops_asking_to_write(page: Page, console):
    page.goto("/start")
    form = page.locator("form.start-form")
    form.get_by_label("Name of your group, or your own name").fill("Coming Out LGBT group")
    form.get_by_label("Name of your group, or your own name").press("Tab")
    email = form.get_by_label("Your email address")
    email.fill("not-an-email")
    email.press("Tab")
    expect(page.locator("#email-field .field-error")).to_be_visible()
    form.get_by_role("button", name="Send my proposal").click()
    expect(page.locator("#error-summary")).to_be_focused()

    email.fill("starter@example.org")
    email.press("Tab")
    form.get_by_label("Title of the petition").fill("Stop the ban on Pride marches")
    form.get_by_label("Summary").fill("The city council banned every Pride march for five years.")
    form.get_by_label("Why it matters").fill("Pride is a peaceful assembly, protected by the constitution.")
    form.get_by_label("Who can make this change?").fill("The city council")
    form.get_by_label("What do you ask of them?").fill("Lift the ban")
    form.get_by_label("Signature goal").fill("2500")
    form.get_by_label("Signature goal").press("Tab")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name="Send my proposal").click()

    expect(page.get_by_role("heading", name="Check your mailbox")).to_be_visible()
    expect(page.locator("#start-sent")).to_be_focused()
    expect(page.get_by_text("Write your petition below")).to_have_count(0)
    assert console == []

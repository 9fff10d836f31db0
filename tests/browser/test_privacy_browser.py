"""Chromium's own request log: the public pages and the sign flow contact no host but the site itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_browser import STARTER, THANKS, THANKS_PAGE, fill_sign_form

PUBLIC_PAGES = ["/", f"/campaigns/{STARTER}", "/campaigns/russia-stop-lgbtqqia-criminalization",
                "/campaigns/russia-oppose-lgbt-criminalization", f"/campaigns/{STARTER}/thanks",
                "/privacy", "/terms", "/contact", "/faq", "/language/ru?next=/faq", "/language/en?next=/",
                "/no-such-page"]


def _record(context) -> list[str]:
    seen: list[str] = []
    context.on("request", lambda request: seen.append(request.url))
    return seen


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_public_pages_and_signing_contact_only_the_site(new_context, live_app, javascript):
    context = new_context(java_script_enabled=javascript)
    requests = _record(context)
    page = context.new_page()
    for path in PUBLIC_PAGES:
        page.goto(path)
    page.goto(f"/campaigns/{STARTER}")
    fill_sign_form(page).get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name=THANKS if javascript else THANKS_PAGE)).to_be_visible()
    page.wait_for_timeout(1500)  # let polling and the "signed" refresh run

    hosts = {urlsplit(url).netloc for url in requests if not url.startswith(("data:", "about:"))}
    assert hosts == {urlsplit(live_app).netloc}, hosts
    assert len(requests) > len(PUBLIC_PAGES)
    if javascript:
        assert any("/static/js/htmx.min." in url for url in requests)

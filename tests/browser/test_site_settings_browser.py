"""A superuser on a phone makes the site the NGO's own: a colour white text cannot be read on is refused with its
ratio, a readable one, a name, a footer and a logo show at once on the public pages a visitor has open."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from petition_app.extensions import db
from tests.conftest import ADMIN_PASSWORD, make_user


def _logo(path) -> str:
    from PIL import Image

    image = Image.new("RGB", (400, 200), (250, 250, 250))
    image.save(path, "JPEG")
    return str(path)


def test_superuser_brands_the_site_from_a_phone(page: Page, served_app, live_app, tmp_path, artifacts_dir):
    with served_app.app_context():
        make_user("root@example.org", superuser=True)
        db.session.remove()
    visitor = page.context.browser.new_page(base_url=live_app, locale="en-US")  # no cookie: the cached pages
    visitor.goto("/faq")
    header = visitor.locator(".site-header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(91, 42, 134)"  # the shipped purple
    visitor.goto("/contact")
    expect(visitor.locator("main")).to_contain_text("have not published their contact details")
    expect(visitor.locator("main")).not_to_contain_text("example.org")

    page.goto("/admin/login")
    page.get_by_label("Email").fill("root@example.org")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="The contact page still shows example details")).to_be_visible()
    page.get_by_role("link", name="Site settings").click()

    page.get_by_label("Primary colour").fill("#ffcc00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#primary_colour-error")).to_contain_text(
        "White text on #ffcc00 has a contrast ratio of 1.51:1; at least 4.5:1 is needed")
    expect(page.get_by_label("Primary colour")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Primary colour").fill("#1a5c3a")
    page.locator("#site_name_en").fill("Rights Site")
    page.locator("#footer_text_en").fill("Run by the Example Collective.")
    page.get_by_label("Logo").set_input_files(_logo(tmp_path / "logo.jpg"))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The settings were saved.")).to_be_visible()

    visitor.goto("/faq")  # the same server process, no restart
    expect(visitor.locator(".brand")).to_have_text("Rights Site")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(26, 92, 58)"
    expect(visitor.locator(".site-footer-text")).to_have_text("Run by the Example Collective.")
    logo = visitor.locator(".brand img")
    assert re.fullmatch(r"/site-logo/logo-[0-9a-f]{16}\.png", logo.get_attribute("src"))
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 320
    visitor.screenshot(path=str(artifacts_dir / "site-settings-branded.png"), full_page=True)
    visitor.close()

"""An admin on a phone: accepts an invitation by choosing a password, turns on two-factor login with the QR code the
site draws itself, then logs in with password and code. Nothing is fetched from another host on the way."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pyotp
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from petition_app import mailer
from petition_app.admin import accounts
from petition_app.extensions import db
from petition_app.models import Organisation, OutboxMessage, Role

PASSWORD = "correct horse battery staple"


def _invite(app) -> str:
    with app.app_context(), app.test_request_context():
        org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "sphere-foundation")).scalar_one()
        accounts.invite(org, "new@sphere.example.org", Role.EDITOR)
        db.session.commit()
        body = mailer.open_payload(db.session.execute(sa.select(OutboxMessage)).scalar_one())["text"]
        db.session.remove()
    return re.search(r"https?://\S+(/admin/invitations/\S+)", body).group(1)


def test_invited_admin_sets_a_password_and_turns_on_two_factor_on_a_phone(page: Page, served_app, live_app,
                                                                          artifacts_dir):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(_invite(served_app))
    expect(page.get_by_role("heading", name="Join Sphere Foundation")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account and join").click()
    expect(page).to_have_url(re.compile(r"/admin/login"))

    page.get_by_label("Email").fill("new@sphere.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/two-factor")
    qr = page.locator("svg.qr")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 100  # big enough to scan
    page.screenshot(path=artifacts_dir / "two-factor-enrol-phone.png", full_page=True)
    secret = page.locator("code.secret").inner_text().strip()
    page.get_by_label("Code shown by your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn two-factor login on").click()
    expect(page.get_by_role("heading", name="Two-factor login is on")).to_be_visible()
    assert page.locator("ul.recovery-codes li").count() == 10

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill("new@sphere.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/login/code"))
    # the enrolment's code is used up: the app's next code (shown within 30 s) logs in
    page.get_by_label("Code from your app, or a recovery code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    assert hosts == {urlsplit(live_app).netloc}

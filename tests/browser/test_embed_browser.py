"""The embeddable petition in real Chromium, framed by a partner page on another site, third-party cookies blocked.

The partner page is served by a plain http.server on http://localhost:<port>; the app on http://127.0.0.1:<port>,
so the two are different sites and the frame is a third-party context. An origin the campaign lists embeds the
petition and signs inside the frame (with and without JavaScript); an origin it does not list is refused by the
browser itself (frame-ancestors).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from petition_app.admin.embed import embed_snippet
from petition_app.embed.origins import set_origins
from petition_app.extensions import db
from petition_app.models import Campaign, Signature
from tests.browser.conftest import ARGS, CHROMIUM, PHONE

SLUG = "russia-oppose-lgbt-criminalization"
THANKS = "Thank you for signing!"
THANKS_PAGE = "If you have just signed, please check your mailbox"


@pytest.fixture
def host_site(tmp_path) -> Iterator[tuple[str, Path]]:
    """A partner's site: static files from a folder, on http://localhost:<free port>."""
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    handler_class = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: handler_class(*a, directory=str(tmp_path), **k))
    del handler
    thread = threading.Thread(target=server.serve_forever, name="host-site", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}", tmp_path
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def blocking_browser(playwright):
    """Chromium with third-party cookies blocked, as they will be for everyone."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, "--test-third-party-cookie-phaseout"])
    yield browser
    browser.close()


def _prepare(app, live_app: str, allowed: list[str]) -> str:
    """List the partner origins and return the admin's snippet for the campaign (pointing at the live server)."""
    app.config["PUBLIC_URL"] = live_app
    with app.app_context():
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        set_origins(campaign, allowed)
        snippet = embed_snippet(campaign)
        db.session.remove()
    return snippet


def _host_page(folder: Path, snippet: str) -> None:
    (folder / "index.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Partner</title></head>"
        f"<body><h1>Our partner page</h1>{snippet}</body></html>", encoding="utf-8")


def _stored(app) -> int:
    with app.app_context():
        n = db.session.execute(
            sa.select(sa.func.count()).select_from(Signature).join(Campaign).where(Campaign.slug == SLUG)
        ).scalar_one()
        db.session.remove()
    return n


def _fill(frame) -> None:
    form = frame.locator("form.sign-form")
    form.get_by_label("First name", exact=True).fill("Anna")
    form.get_by_label("Last name", exact=True).fill("Ivanova")
    form.get_by_label("Email", exact=True).fill("anna@example.org")
    form.get_by_label("Country", exact=True).select_option("DE")
    form.get_by_role("button", name="Sign", exact=True).click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_listed_partner_embeds_the_petition_and_people_sign_inside_the_frame(
        blocking_browser, served_app, live_app, host_site, artifacts_dir, javascript):
    host, folder = host_site
    _host_page(folder, _prepare(served_app, live_app, [host]))
    context = blocking_browser.new_context(**PHONE, java_script_enabled=javascript)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    posts: list[dict] = []
    page.on("requestfinished", lambda r: posts.append(r.all_headers()) if r.method == "POST" else None)

    page.goto(f"{host}/index.html")
    frame = page.frame_locator("iframe[data-petition-embed]")
    expect(frame.locator("h1")).to_contain_text("Russia")
    if javascript:  # the optional script told the host page how tall the form is
        expect(page.locator("iframe[data-petition-embed]")).not_to_have_attribute("height", "720")
    _fill(frame)

    expect(frame.get_by_role("heading", name=THANKS if javascript else THANKS_PAGE)).to_be_visible()
    page.screenshot(path=artifacts_dir / f"embed-signed-{'js' if javascript else 'nojs'}.png", full_page=True)
    assert page.url == f"{host}/index.html"  # the partner page stayed; only the frame changed
    assert _stored(served_app) == 1
    assert posts and all(h.get("sec-fetch-site") == "same-origin" for h in posts), posts
    assert context.cookies() == []  # nothing needed a cookie
    assert not [e for e in errors if "frame-ancestors" in e or "Content Security Policy" in e], errors
    context.close()


def test_a_partner_not_listed_is_refused_by_the_browser(blocking_browser, served_app, live_app, host_site):
    host, folder = host_site
    _host_page(folder, _prepare(served_app, live_app, ["https://someone-else.example.org"]))
    context = blocking_browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text))

    page.goto(f"{host}/index.html")
    page.wait_for_timeout(1500)

    framed = [f for f in page.frames if f is not page.main_frame]
    assert len(framed) == 1
    assert framed[0].locator("form.sign-form").count() == 0
    assert any("frame-ancestors" in e for e in errors), errors
    assert _stored(served_app) == 0
    context.close()

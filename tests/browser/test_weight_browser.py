"""What a phone downloads: the first campaign view is light, a repeat view fetches at most the page itself."""

from __future__ import annotations

import pytest

from petition_app.demo.loader import load_demo
from petition_app.extensions import db
from tests.browser.test_sign_browser import STARTER

FIRST_VIEW_LIMIT = 40 * 1024


@pytest.fixture
def served_app(make_app):
    """The demo as served by default: counter polled every 10 s, pages cached."""
    app = make_app()
    with app.app_context():
        load_demo()
        db.session.remove()
    return app


@pytest.fixture
def server_hits(served_app) -> list[str]:
    hits: list[str] = []
    inner = served_app.wsgi_app

    def counting(environ, start_response):
        hits.append(environ.get("PATH_INFO", ""))
        return inner(environ, start_response)

    served_app.wsgi_app = counting
    return hits


def test_first_campaign_view_is_under_40_kb_and_a_repeat_view_fetches_no_static_file(page, server_hits):
    transferred: list[int] = []
    page.on("requestfinished", lambda request: transferred.append(
        request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]))
    page.goto(f"/campaigns/{STARTER}")
    page.wait_for_load_state("networkidle")
    total = sum(transferred)
    print(f"first view: {len(transferred)} requests, {total} bytes transferred")
    assert len(transferred) >= 4  # the page, its stylesheet, two scripts (and the icon)
    assert total <= FIRST_VIEW_LIMIT

    server_hits.clear()
    page.goto("/")
    page.goto(f"/campaigns/{STARTER}")
    page.wait_for_load_state("networkidle")
    repeat = [path for path in server_hits if path == f"/campaigns/{STARTER}" or path.startswith("/static/")]
    assert [path for path in repeat if path.startswith("/static/")] == []
    assert len(repeat) <= 1

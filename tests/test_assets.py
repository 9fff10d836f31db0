"""Static files: content-hashed names linked from the pages, served immutable and pre-compressed."""

from __future__ import annotations

import gzip
import re

import brotli

from tests.conftest import ROOT

LINKED = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_pages_link_every_static_file_under_a_hashed_name_that_is_served_immutable(client, make_campaign):
    make_campaign(slug="st")
    links = LINKED.findall(client.get("/campaigns/st").get_data(as_text=True))
    assert {re.sub(r"\.[0-9a-f]{16}\.", ".", link) for link in links} == {
        "/static/css/site.css", "/static/img/favicon.svg", "/static/js/htmx.min.js", "/static/js/site.js"}
    for link in links:
        assert re.search(r"\.[0-9a-f]{16}\.(css|js|svg)$", link), link
        response = client.get(link, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        logical = re.sub(r"\.[0-9a-f]{16}\.", ".", link).removeprefix("/static/")
        assert response.data == (ROOT / "static" / logical).read_bytes()


def test_a_changed_file_gets_a_new_name(make_app, tmp_path):
    from petition_app.assets import build_manifest

    (tmp_path / "a.css").write_text("body{color:red}")
    before = build_manifest(tmp_path).names["a.css"]
    (tmp_path / "a.css").write_text("body{color:blue}")
    after = build_manifest(tmp_path).names["a.css"]
    assert before != after and before.startswith("a.") and before.endswith(".css")


def test_static_text_files_are_served_brotli_or_gzip_compressed(client, make_campaign):
    make_campaign(slug="st")
    html = client.get("/campaigns/st").get_data(as_text=True)
    script = next(link for link in LINKED.findall(html) if "htmx.min." in link)
    original = (ROOT / "static" / "js" / "htmx.min.js").read_bytes()
    br = client.get(script, headers={"Accept-Encoding": "gzip, br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.data) == original
    assert len(br.data) < len(original) / 2
    gz = client.get(script, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == original
    assert "Accept-Encoding" in br.vary
    again = client.get(script, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]})
    assert again.status_code == 304


def test_unhashed_static_names_still_work_but_are_revalidated(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    response.close()


def test_uncached_public_html_is_compressed_but_admin_pages_never_are(client, make_campaign):
    make_campaign(slug="st")
    # A page with a query string is rendered fresh, not from the page cache: still compressed.
    fresh = client.get("/campaigns/st?from=newsletter", headers={"Accept-Encoding": "br"})
    assert fresh.status_code == 200 and fresh.headers["Content-Encoding"] == "br"
    assert b"Free the test campaign" in brotli.decompress(fresh.data)
    login = client.get("/admin/login", headers={"Accept-Encoding": "br, gzip"})
    assert login.status_code == 200 and "Content-Encoding" not in login.headers


def test_a_browser_asking_for_favicon_ico_gets_the_sites_icon_not_a_404(client):
    # Chromium asks for /favicon.ico on some pages whatever they link; a 404 there is a console error.
    response = client.get("/favicon.ico", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data == (ROOT / "static" / "img" / "favicon.svg").read_bytes()
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=86400"

"""Public pages: the same bytes for every anonymous visitor, cacheable, revalidated, compressed, kept fresh."""

from __future__ import annotations

import gzip

import brotli
import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Campaign, Role
from tests.conftest import csrf_token, log_in, make_org, make_user, redis_or_skip, sql_statements

PUBLIC_PAGES = ["/", "/campaigns/pc", "/campaigns/pc/thanks", "/privacy", "/faq"]


@pytest.fixture
def cached_app(make_app):
    app = make_app(PAGE_CACHE_SECONDS=60)
    with app.app_context():
        yield app


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_anonymous_visitors_get_identical_bytes_and_no_cookie(cached_app, make_campaign, path):
    make_campaign(slug="pc")
    first = cached_app.test_client().get(path, headers={"Accept-Language": "en"})
    second = cached_app.test_client().get(path, headers={"Accept-Language": "en"})
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in second.headers
    cache_control = first.headers["Cache-Control"]
    assert cache_control.startswith("public, max-age=0, s-maxage=60")
    assert "stale-while-revalidate=" in cache_control and "stale-if-error=" in cache_control
    assert {"Accept-Language", "Cookie", "Accept-Encoding"} <= set(first.vary)
    assert first.headers["ETag"]


def test_a_matching_etag_answers_304_with_no_body(cached_app, make_campaign):
    make_campaign(slug="pc")
    client = cached_app.test_client()
    etag = client.get("/campaigns/pc").headers["ETag"]
    again = client.get("/campaigns/pc", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/campaigns/pc", headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_cached_page_is_served_without_touching_the_database(cached_app, make_campaign):
    make_campaign(slug="pc")
    client = cached_app.test_client()
    assert client.get("/campaigns/pc").status_code == 200
    with sql_statements(db.engine) as statements:
        for _ in range(3):
            assert client.get("/campaigns/pc").status_code == 200
    assert statements == []


def test_languages_are_cached_apart(cached_app, make_campaign):
    make_campaign(slug="pc")
    english = cached_app.test_client().get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    russian = cached_app.test_client().get("/privacy", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="en">' in english and '<html lang="ru">' in russian


def test_an_admin_edit_shows_on_the_cached_page_at_once(cached_app, make_campaign):
    org = make_org("org-pc")
    campaign = make_campaign(slug="pc", org=org, title="Old title")
    visitor = cached_app.test_client()
    assert "Old title" in visitor.get("/campaigns/pc").get_data(as_text=True)
    assert "Old title" in visitor.get("/").get_data(as_text=True)
    make_user("ed@example.org", (org, Role.EDITOR))
    editor = log_in(cached_app, "ed@example.org")
    path = f"/admin/campaigns/{campaign.id}/edit"
    from tests.test_admin_campaigns import fields

    response = editor.post(path, data={**fields(org, slug="pc", title="New title"),
                                       "csrf_token": csrf_token(editor, path)})
    assert response.status_code == 303
    assert "New title" in visitor.get("/campaigns/pc").get_data(as_text=True)
    assert "New title" in visitor.get("/").get_data(as_text=True)


def test_a_change_committed_by_another_worker_drops_this_workers_pages(make_app, app_config, make_campaign):
    """Two app instances on one machine (two gunicorn workers) share no memory, only the instance folder."""
    worker_a = make_app(PAGE_CACHE_SECONDS=60)
    worker_b = make_app(PAGE_CACHE_SECONDS=60)
    with worker_a.app_context():
        make_campaign(slug="pc", title="Before")
    assert "Before" in worker_a.test_client().get("/campaigns/pc").get_data(as_text=True)
    with worker_b.app_context():
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == "pc")).scalar_one()
        campaign.title = "After"
        db.session.commit()
    assert "After" in worker_a.test_client().get("/campaigns/pc").get_data(as_text=True)


def test_a_request_checks_for_other_workers_drops_once_and_code_outside_requests_at_every_read(
        cached_app, make_campaign, monkeypatch):
    """The stamp file tells a worker that another one dropped the pages: one look per request (each look gives
    up the interpreter lock for a system call), at the request's first read; outside a request, at every read."""
    from petition_app import cache as cache_module
    from tests.conftest import sign_data

    make_campaign(slug="pc", count_confirmed_only=False)
    client = cached_app.test_client()
    data = sign_data(client, "pc")
    looks: list[str | None] = []
    real = cache_module.read_stamp
    monkeypatch.setattr(cache_module, "read_stamp", lambda path: looks.append(path) or real(path))
    # A sign POST reads the campaign, the site settings and the repeat limit from the cache (five looks before).
    answer = client.post("/campaigns/pc/sign", data=data, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert answer.status_code == 303 and len(looks) == 1
    looks.clear()
    for _ in range(3):
        cached_app.extensions["petition_cache"].get("page:anything")
    assert len(looks) == 3


def test_a_full_in_process_cache_keeps_its_newest_entries_and_copies_itself_once_per_half_of_them():
    """In a spike every signer leaves a repeat-limit mark for 10 minutes: the cache fills with entries that have
    not expired. Pruning to just under the maximum copied the whole dict on every set past it (a signing rate
    that fell by half after some 20,000 signatures per worker); it now prunes to half, oldest first."""
    from petition_app.cache import MemoryCache

    store = MemoryCache(max_entries=100)
    store.set("short", 1, 0.01)
    copies, held = 0, store._data
    for i in range(1000):
        store.set(f"k{i}", i, 600)
        if store._data is not held:
            copies, held = copies + 1, store._data
    assert copies <= 1000 // 50
    assert len(store._data) <= 100
    assert store.get("k999") == 999 and store.get("k960") == 960  # the newest stay
    assert store.get("k0") is None and store.get("short") is None  # the oldest and the expired go


def test_signatures_do_not_drop_the_page_cache(cached_app, make_campaign):
    from petition_app.signing.service import SignatureInput, sign

    campaign = make_campaign(slug="pc")
    client = cached_app.test_client()
    etag = client.get("/campaigns/pc").headers["ETag"]
    sign(campaign, SignatureInput("A", "B", "a@example.org", "FR"))
    assert client.get("/campaigns/pc", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(("encoding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_public_pages_are_compressed_and_decompress_to_the_same_page(cached_app, make_campaign, encoding, decode):
    make_campaign(slug="pc")
    plain = cached_app.test_client().get("/campaigns/pc", headers={"Accept-Encoding": "identity"})
    packed = cached_app.test_client().get("/campaigns/pc", headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert len(packed.data) < len(plain.data) / 3
    assert decode(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]


def test_with_redis_pages_are_shared_and_dropped_after_a_content_commit(make_app):
    """With REDIS_URL every worker reads the same cached page and the same drop; the test deletes what it made."""
    import os
    import uuid

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis_or_skip(url)
    slug = "redis-" + uuid.uuid4().hex[:8]
    prefix = f"test-{uuid.uuid4().hex}:"  # only keys under this test's own prefix are read and deleted
    worker_a, worker_b = (make_app(REDIS_URL=url, REDIS_KEY_PREFIX=prefix, PAGE_CACHE_SECONDS=60) for _ in range(2))
    try:
        with worker_a.app_context():
            from petition_app.models import Organisation

            campaign = Campaign(slug=slug, title="Before", lead="", organisation=Organisation(slug=slug, name="O"),
                                goal=10, status="open")
            db.session.add(campaign)
            db.session.commit()
        first = worker_a.test_client().get(f"/campaigns/{slug}")
        keys = [k.decode() for k in client.scan_iter(f"{prefix}*page:*/campaigns/{slug}")]
        assert len(keys) == 1
        assert worker_b.test_client().get(f"/campaigns/{slug}").data == first.data
        with worker_b.app_context():
            db.session.execute(sa.select(Campaign).where(Campaign.slug == slug)).scalar_one().title = "After"
            db.session.commit()
        assert list(client.scan_iter(f"{prefix}*page:*/campaigns/{slug}")) == []
        assert "After" in worker_a.test_client().get(f"/campaigns/{slug}").get_data(as_text=True)
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_value_computed_while_a_change_was_committed_is_not_kept(make_app, store):
    """A signing request reads the campaign while an editor commits a change (and drops the pages): what it read
    may predate the change, so it is used once and not kept for the next requests."""
    import os
    import uuid

    from petition_app import pagecache

    settings = {"PAGE_CACHE_SECONDS": 60}
    client = None
    if store == "redis":
        url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        client = redis_or_skip(url)
        settings |= {"REDIS_URL": url, "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex}:"}
    app = make_app(**settings)
    try:
        with app.test_request_context("/"):
            def read_during_a_commit():
                pagecache.drop_pages()  # what a commit of public content does, meanwhile
                return ["as read before the commit"]

            assert pagecache.cached_value("race", read_during_a_commit) == ["as read before the commit"]
            assert pagecache.cached_value("race", lambda: ["read again"]) == ["read again"]
            assert pagecache.cached_value("race", lambda: ["not read: kept"]) == ["read again"]
    finally:
        if client is not None:
            for key in client.scan_iter(f"{settings['REDIS_KEY_PREFIX']}*"):
                client.delete(key)
            client.close()

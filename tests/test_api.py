"""The public read API: public campaigns only, nothing about signers, cacheable, CORS, problem documents."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from petition_app import counts
from petition_app.extensions import db
from petition_app.models import CampaignStatus, Signature, SlugRedirect, Starter, StarterState
from petition_app.signing.service import SignatureInput, sign
from petition_app.signing.service import confirm as confirm_signature


def _sign_confirmed(campaign, email: str, first: str = "Anna", last: str = "Ivanova", **extra) -> None:
    sign(campaign, SignatureInput(first, last, email, extra.pop("country", "DE"), language="en", **extra))
    for signature in db.session.execute(sa.select(Signature).where(Signature.campaign_id == campaign.id)).scalars():
        confirm_signature(signature)


def _json(response) -> dict:
    return json.loads(response.get_data(as_text=True))


def test_campaign_resource_has_the_public_fields_and_the_count(client, make_campaign):
    campaign = make_campaign(slug="api-one", title="Free them", lead="Short summary.", goal=100,
                             targets="The Minister\nThe Parliament", language="ru",
                             deadline=datetime(2031, 5, 1, 12, 30, tzinfo=timezone.utc))
    for i in range(3):
        _sign_confirmed(campaign, f"a{i}@example.org")
    counts.forget("api-one")

    response = client.get("/api/v1/campaigns/api-one")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = _json(response)
    assert body["title"] == "Free them"
    assert body["summary"] == "Short summary."
    assert body["targets"] == [{"name": "The Minister"}, {"name": "The Parliament"}]
    assert body["total_signatures"] == 3
    assert body["goal"] == 100
    assert body["status"] == "open"
    assert body["accepting_signatures"] is True
    assert body["deadline"] == "2031-05-01T12:30:00Z"
    assert body["languages"] == ["ru"]
    assert body["identifiers"] == ["petition_app:api-one"]
    assert body["browser_url"] == "http://localhost/campaigns/api-one"
    assert body["_links"]["count"]["href"] == "http://localhost/api/v1/campaigns/api-one/count"


def test_no_answer_carries_anything_about_a_signer(client, make_campaign):
    campaign = make_campaign(slug="api-private")
    _sign_confirmed(campaign, "zina@secret.example", "Zinaida", "Uniquename", country="RU", phone="+7 900 1234567")

    for path in ("/api/v1/campaigns", "/api/v1/campaigns/api-private", "/api/v1/campaigns/api-private/count"):
        raw = client.get(path).get_data()
        for secret in (b"Zinaida", b"Uniquename", b"zina@", b"secret.example", b"1234567"):
            assert secret not in raw, (path, secret)


def test_drafts_and_taken_down_campaigns_are_not_in_the_api(client, make_campaign):
    make_campaign(slug="api-open")
    make_campaign(slug="api-draft", status=CampaignStatus.DRAFT)
    taken = make_campaign(slug="api-taken")
    db.session.add(Starter(public_name="X", email="x@example.org", email_hash="0" * 64,
                           state=StarterState.TAKEN_DOWN, campaign_id=taken.id))
    db.session.commit()

    listed = [c["slug"] for c in _json(client.get("/api/v1/campaigns"))["_embedded"]["campaigns"]]

    assert listed == ["api-open"]
    for slug in ("api-draft", "api-taken"):
        for path in (f"/api/v1/campaigns/{slug}", f"/api/v1/campaigns/{slug}/count"):
            response = client.get(path)
            assert response.status_code == 404
            assert response.mimetype == "application/problem+json"
            assert _json(response)["status"] == 404


def test_the_list_is_paginated_with_links(client, make_campaign):
    for i in range(5):
        make_campaign(slug=f"api-page-{i}")

    first = _json(client.get("/api/v1/campaigns?per_page=2"))
    last = _json(client.get("/api/v1/campaigns?per_page=2&page=3"))

    assert first["total_records"] == 5 and first["total_pages"] == 3
    assert len(first["_embedded"]["campaigns"]) == 2
    assert first["_links"]["next"]["href"] == "http://localhost/api/v1/campaigns?page=2&per_page=2"
    assert "prev" not in first["_links"]
    assert [c["slug"] for c in last["_embedded"]["campaigns"]] == ["api-page-0"]
    assert "next" not in last["_links"]


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=101", "per_page=-1", "page=１"])
def test_bad_paging_is_a_400_problem(client, query):
    response = client.get(f"/api/v1/campaigns?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert _json(response)["title"] == "Bad Request"


def test_count_answers_like_the_counter(client, make_campaign):
    campaign = make_campaign(slug="api-count", goal=10, offline_count=4)

    response = client.get("/api/v1/campaigns/api-count/count")

    assert _json(response) == {"slug": "api-count", "total_signatures": 4, "goal": 10,
                               "accepting_signatures": True}
    assert campaign.total_count == 4


def test_answers_are_cacheable_cors_readable_and_cookieless(client, make_campaign):
    make_campaign(slug="api-cache")
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/api-cache", "/api/v1/campaigns/api-cache/count",
                 "/api/v1/openapi.json"):
        response = client.get(path, headers={"Origin": "https://partner.example"})
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert response.headers["Cache-Control"].startswith("public, max-age=")
        assert "stale-while-revalidate=" in response.headers["Cache-Control"]
        assert "Set-Cookie" not in response.headers
        etag = response.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.get_data() == b""


def test_an_etag_changes_when_the_count_does(client, make_campaign):
    campaign = make_campaign(slug="api-etag")
    before = client.get("/api/v1/campaigns/api-etag/count").headers["ETag"]
    _sign_confirmed(campaign, "ab@example.org")
    counts.forget("api-etag")

    response = client.get("/api/v1/campaigns/api-etag/count", headers={"If-None-Match": before})

    assert response.status_code == 200
    assert _json(response)["total_signatures"] == 1


def test_a_renamed_campaign_answers_301_to_its_current_address(client, make_campaign):
    campaign = make_campaign(slug="api-new")
    db.session.add(SlugRedirect(old_slug="api-old", campaign_id=campaign.id))
    db.session.commit()

    response = client.get("/api/v1/campaigns/api-old/count")

    assert response.status_code == 301
    assert response.headers["Location"].endswith("/api/v1/campaigns/api-new/count")


def test_unknown_addresses_answer_problems_and_writes_are_not_allowed(client, make_campaign):
    make_campaign(slug="api-m")
    missing = client.get("/api/v1/nothing/here")
    post = client.post("/api/v1/campaigns")
    delete = client.delete("/api/v1/campaigns/api-m")

    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    for response in (post, delete, client.put("/api/v1/campaigns/api-m/count"), client.patch("/api/v1/")):
        assert response.status_code == 405 and response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 405
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_preflight_allows_get_with_if_none_match(client, make_campaign):
    make_campaign(slug="api-pre")
    response = client.options("/api/v1/campaigns/api-pre", headers={
        "Origin": "https://partner.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "If-None-Match"


def test_the_api_is_rate_limited_with_a_problem(make_app, make_campaign):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_API="3 per minute")
    with app.app_context():
        make_campaign(slug="api-rl")
        client = app.test_client()
        statuses = [client.get("/api/v1/campaigns/api-rl/count").status_code for _ in range(4)]
        limited = client.get("/api/v1/campaigns/api-rl")

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert limited.headers["Retry-After"] == "60"
    assert limited.headers["Access-Control-Allow-Origin"] == "*"


def test_the_count_is_replayed_in_front_of_flask_while_cached(make_app, make_campaign):
    app = make_app(COUNTER_CACHE_SECONDS=30)
    with app.app_context():
        make_campaign(slug="api-fast", offline_count=7)
        client = app.test_client()
        first = client.get("/api/v1/campaigns/api-fast/count")
        engine = db.engine
        statements = []
        sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        second = client.get("/api/v1/campaigns/api-fast/count")

    assert first.get_data() == second.get_data()
    assert _json(second)["total_signatures"] == 7
    assert first.headers["Cache-Control"].startswith("public, max-age=30,")
    assert statements == []

"""The counter answered in front of Flask while its fragment is cached: the same bytes, no hook, no cookie kept."""

from __future__ import annotations

import re

from petition_app import counts
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Organisation


def _app_with_counter(make_app, **settings):
    app = make_app(COUNTER_CACHE_SECONDS=60, **settings)
    with app.app_context():
        org = Organisation(slug="o", name="O")
        db.session.add(Campaign(slug="fast", title="T", organisation=org, status=CampaignStatus.OPEN, goal=10,
                                offline_count=7440))
        db.session.commit()
    flask_answers: list[str] = []

    @app.before_request
    def note():  # runs only when Flask itself answers
        from flask import request

        flask_answers.append(request.path)

    return app, flask_answers


def _without_date(response) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in response.headers.items() if name != "Date")


def test_a_repeated_counter_request_gets_the_same_answer_without_running_flask(make_app):
    app, flask_answers = _app_with_counter(make_app)
    client = app.test_client()
    headers = {"Accept-Encoding": "gzip, br", "Accept-Language": "ru"}
    first = client.get("/campaigns/fast/counter", headers=headers)
    second = client.get("/campaigns/fast/counter", headers=headers)
    assert first.status_code == second.status_code == 200
    assert flask_answers == ["/campaigns/fast/counter"]
    assert second.get_data() == first.get_data() and first.headers["Content-Encoding"] == "br"
    assert _without_date(second) == _without_date(first)
    assert second.headers["Date"] and "Set-Cookie" not in second.headers
    for name in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "ETag", "Vary"):
        assert second.headers[name] == first.headers[name]

    not_modified = client.get("/campaigns/fast/counter", headers={**headers, "If-None-Match": first.headers["ETag"]})
    again = client.get("/campaigns/fast/counter", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == again.status_code == 304 and again.get_data() == b""
    assert _without_date(again) == _without_date(not_modified)
    assert len(flask_answers) == 2


def test_the_answer_follows_the_request_headers_it_depends_on(make_app):
    app, flask_answers = _app_with_counter(make_app)
    client = app.test_client()
    russian = client.get("/campaigns/fast/counter", headers={"Accept-Language": "ru", "Accept-Encoding": "identity"})
    english = client.get("/campaigns/fast/counter", headers={"Accept-Language": "en", "Accept-Encoding": "identity"})
    gzipped = client.get("/campaigns/fast/counter", headers={"Accept-Language": "en", "Accept-Encoding": "gzip"})
    assert len(flask_answers) == 3
    assert "Цель: 10\xa0000" in russian.get_data(as_text=True) and "Goal: 10,000" in english.get_data(as_text=True)
    assert "Content-Encoding" not in english.headers and gzipped.headers["Content-Encoding"] == "gzip"


def test_a_visitor_with_a_cookie_always_goes_through_flask(make_app):
    app, flask_answers = _app_with_counter(make_app)
    client = app.test_client()
    client.get("/campaigns/fast/counter")
    client.set_cookie("lang", "ru")
    client.get("/campaigns/fast/counter")
    client.get("/campaigns/fast/counter")
    assert len(flask_answers) == 3


def test_forgetting_the_counter_drops_the_replayed_answer(make_app):
    app, flask_answers = _app_with_counter(make_app)
    client = app.test_client()
    assert "<strong>7,440</strong>" in client.get("/campaigns/fast/counter").get_data(as_text=True)
    with app.app_context():
        campaign = db.session.execute(db.select(Campaign).where(Campaign.slug == "fast")).scalar_one()
        campaign.offline_count = 9000
        db.session.commit()
        counts.forget("fast")
    assert "<strong>9,000</strong>" in client.get("/campaigns/fast/counter").get_data(as_text=True)
    assert len(flask_answers) == 2


def test_other_answers_are_never_replayed(make_app):
    app, flask_answers = _app_with_counter(make_app, PAGE_CACHE_SECONDS=60)
    client = app.test_client()
    for _ in range(2):
        assert client.get("/campaigns/missing/counter").status_code == 404
        assert client.get("/campaigns/fast?utm=x").status_code == 200  # a query: not the shared page
        assert client.get("/admin/login").status_code == 200
    assert len(flask_answers) == 6


def test_a_cached_public_page_is_replayed_until_a_content_change_drops_it(make_app):
    app, flask_answers = _app_with_counter(make_app, PAGE_CACHE_SECONDS=60)
    client = app.test_client()
    first = client.get("/campaigns/fast", headers={"Accept-Encoding": "br"})
    second = client.get("/campaigns/fast", headers={"Accept-Encoding": "br"})
    assert first.status_code == second.status_code == 200 and first.headers["Content-Encoding"] == "br"
    assert second.get_data() == first.get_data() and _without_date(second) == _without_date(first)
    assert "Set-Cookie" not in second.headers
    assert flask_answers == ["/campaigns/fast"]
    with app.app_context():
        campaign = db.session.execute(db.select(Campaign).where(Campaign.slug == "fast")).scalar_one()
        campaign.title = "A new title"
        db.session.commit()
    assert "A new title" in client.get("/campaigns/fast").get_data(as_text=True)
    assert len(flask_answers) == 2


def test_without_a_counter_cache_nothing_is_replayed(make_app):
    app, flask_answers = _app_with_counter(make_app)
    app.config["COUNTER_CACHE_SECONDS"] = 0
    client = app.test_client()
    client.get("/campaigns/fast/counter")
    client.get("/campaigns/fast/counter")
    assert len(flask_answers) == 2


def test_a_real_gunicorn_replays_the_counter_byte_for_byte_but_the_date(tmp_path):
    from petition_app import create_app
    from tests.live_gunicorn import gunicorn, raw_request

    url = f"sqlite:///{tmp_path / 'fast.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        db.create_all()
        org = Organisation(slug="o", name="O")
        db.session.add(Campaign(slug="wire", title="T", organisation=org, status=CampaignStatus.OPEN, goal=10,
                                offline_count=1234))
        db.session.commit()
        db.engine.dispose()
    env = {"DATABASE_URL": url, "SECRET_KEY": "gunicorn test key", "RATELIMIT_ENABLED": "0", "WEB_CONCURRENCY": "1",
           "COUNTER_CACHE_SECONDS": "60", "INSTANCE_PATH": str(tmp_path / "instance")}
    request = (b"GET /campaigns/wire/counter HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: br\r\n"
               b"Connection: close\r\n\r\n")
    with gunicorn(env, threads=1) as port:
        answers = [raw_request(port, request) for _ in range(3)]
    dated = [re.sub(rb"\r\nDate: [^\r]+", b"", answer) for answer in answers]
    assert dated[0].startswith(b"HTTP/1.1 200 ") and b"\r\nContent-Encoding: br\r\n" in dated[0]
    assert b"Set-Cookie" not in dated[0]
    assert dated[1] == dated[0] and dated[2] == dated[0]
    assert all(answer.count(b"\r\nDate: ") == 1 for answer in answers)

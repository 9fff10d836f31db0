"""Signer safety on the wire and in storage: headers, cookies, addresses, rate limits, CSRF, SQLite settings."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Signature
from petition_app.security import AddressScrubber
from tests.conftest import sign_data


def test_every_response_carries_strict_security_headers(client, make_campaign):
    make_campaign(slug="h")
    for path in ["/", "/campaigns/h", "/campaigns/h/counter", "/privacy", "/nope", "/static/css/site.css"]:
        response = client.get(path)
        headers = response.headers
        response.close()
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers  # plain http here
        assert "Onion-Location" not in headers


def test_https_public_url_adds_hsts_and_secure_cookies(make_app):
    app = make_app(PUBLIC_URL="https://petitions.example.org")
    client = app.test_client()
    response = client.get("/language/ru")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]


def test_onion_url_adds_onion_location(make_app):
    app = make_app(ONION_URL="http://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion")
    response = app.test_client().get("/privacy?x=1")
    assert response.headers["Onion-Location"] == (
        "http://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/privacy?x=1")


def test_session_cookie_is_httponly_and_samesite(client, make_campaign):
    cookie = client.get("/admin/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sqlite_runs_with_secure_delete(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_no_column_can_hold_an_ip_address():
    names = {c.name.lower() for t in db.metadata.sorted_tables for c in t.columns}
    assert not {n for n in names if "ip" in n.split("_") or "addr" in n and n != "to_address"}


def test_log_scrubber_removes_addresses():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - "GET / HTTP/1.1" 200 -',
                               ("203.0.113.9",), None)
    AddressScrubber().filter(record)
    assert "203.0.113.9" not in record.getMessage()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "from 2001:db8::1 and 10.0.0.1", None, None)
    AddressScrubber().filter(record)
    assert "2001:db8::1" not in record.getMessage() and "10.0.0.1" not in record.getMessage()
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" 200 -',
                               ("POST /s/confirm/Abc_-123xyz HTTP/1.1",), None)
    AddressScrubber().filter(record)
    assert "Abc_-123xyz" not in record.getMessage() and "/s/confirm/…" in record.getMessage()


def test_signing_stores_no_trace_of_the_client_address(client, make_campaign, caplog):
    make_campaign(slug="ip")
    caplog.set_level(logging.DEBUG)
    client.post("/campaigns/ip/sign", data=sign_data(client, "ip"), environ_base={"REMOTE_ADDR": "198.51.100.77"},
                headers={"X-Forwarded-For": "203.0.113.50"})
    dump = "\n".join(str(row) for row in db.session.execute(sa.select(Signature.__table__)).all())
    assert "198.51.100.77" not in dump and "203.0.113.50" not in dump
    assert "198.51.100.77" not in caplog.text


def _limited_app(make_app, slug: str, **extra):
    """An app allowing two signatures a minute per client, with one open campaign at `slug`."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGN="2 per minute", **extra)
    with app.app_context():
        open_campaign(slug)
    return app


def open_campaign(slug: str) -> None:
    from petition_app.models import Campaign, CampaignStatus, Organisation

    db.session.add(Campaign(slug=slug, title="T", goal=10, status=CampaignStatus.OPEN,
                            organisation=Organisation(slug="o-" + slug, name="O")))
    db.session.commit()


def test_rate_limit_answers_a_friendly_429_page_and_htmx_fragment(make_app):
    app = _limited_app(make_app, "rl")
    with app.app_context():
        client = app.test_client()
        data = sign_data(client, "rl")
        for i in range(2):
            assert client.post("/campaigns/rl/sign", data={**data, "email": f"a{i}@example.org"}).status_code == 303
        page = client.post("/campaigns/rl/sign", data={**data, "email": "a9@example.org"})
        assert page.status_code == 429 and "Please slow down" in page.get_data(as_text=True)
        assert "<html" in page.get_data(as_text=True)
        fragment = client.post("/campaigns/rl/sign", data=data, headers={"HX-Request": "true"})
        assert fragment.status_code == 429 and "<html" not in fragment.get_data(as_text=True)
        assert fragment.headers["HX-Retarget"] == "#messages"


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(make_app):
    app = _limited_app(make_app, "xff")
    client = app.test_client()
    data = sign_data(client, "xff")
    codes = [client.post("/campaigns/xff/sign", data={**data, "email": f"b{i}@example.org"},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
    assert codes == [303, 303, 429]  # a made-up header does not buy a fresh limit


def test_trusted_proxy_hop_is_used_for_the_limit(make_app):
    app = _limited_app(make_app, "proxy", TRUSTED_PROXIES=1)
    client = app.test_client()
    data = sign_data(client, "proxy")
    codes = [client.post("/campaigns/proxy/sign", data={**data, "email": f"c{i}@example.org"},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
    assert codes == [303, 303, 303]  # three different clients behind the proxy


def test_rate_limit_keys_are_keyed_hashes_not_addresses(app):
    from petition_app.privacy import rate_limit_key

    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.1"}):
        key = rate_limit_key()
    assert "192.0.2.1" not in key and len(key) == 32
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.1"}):
        assert rate_limit_key() == key  # stable within the day


def test_forms_work_over_https_without_a_referer(make_app):
    """Pages ask browsers to send no Referer; CSRF protection must not depend on one."""
    app = make_app(PUBLIC_URL="https://petitions.example.org")
    with app.app_context():
        open_campaign("tls")
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    response = client.post("/campaigns/tls/sign", data=sign_data(client, "tls"))
    assert response.status_code == 303


def test_gunicorn_access_log_records_no_client_address_and_no_link_token():
    from datetime import timedelta
    from pathlib import Path
    from types import SimpleNamespace

    settings: dict = {}
    exec(compile(Path("gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)  # noqa: S102
    log_format = settings["access_log_format"]
    for atom in ("%(h)s", "%(a)s", "%(f)s", "X-Forwarded-For", "%(u)s"):
        assert atom.lower() not in log_format.lower()
    logger = settings["logger_class"].__new__(settings["logger_class"])
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/s/withdraw/SeCrEtToKeN123?x=1", "PATH_INFO":
               "/start/dashboard/AnotherSecret", "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "198.51.100.9"}
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=10, headers=[]), SimpleNamespace(headers=[]), environ,
                         timedelta(milliseconds=5))
    text = log_format % atoms
    assert "SeCrEtToKeN123" not in text and "/s/withdraw/…" in text
    assert "AnotherSecret" not in atoms["U"] and "198.51.100.9" not in text


@pytest.mark.parametrize("raw_uri", ["/s/withdraw/SeCrEtToKeN123?x=1", '/campaigns/a"b/sign?q="1"', "/", "/x?ip=10.0.0.1"])
@pytest.mark.parametrize("sent", [0, 25554, None])
def test_gunicorn_access_lines_are_the_bytes_the_configured_format_gives(raw_uri, sent):
    """The access log's short path (the configured format written directly) writes what gunicorn's own path
    writes for that format, scrubbed alike; another format takes gunicorn's path."""
    import logging
    from datetime import timedelta
    from pathlib import Path
    from types import SimpleNamespace

    from gunicorn.glogging import SafeAtoms

    settings: dict = {}
    exec(compile(Path("gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)  # noqa: S102
    logger = settings["logger_class"].__new__(settings["logger_class"])
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger.access_log = logging.getLogger(f"test-access-{id(lines)}")
    logger.access_log.propagate = False
    logger.access_log.setLevel(logging.INFO)
    logger.access_log.addHandler(Capture())
    logger._access_log_enabled = True
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": raw_uri, "PATH_INFO": raw_uri.split("?")[0],
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "198.51.100.9"}
    resp = SimpleNamespace(status="303 SEE OTHER", sent=sent, headers=[("Location", "/x")])
    req = SimpleNamespace(headers=[("HOST", "example.org")])
    took = timedelta(seconds=1, microseconds=234567)
    for log_format in (settings["access_log_format"], '%(r)s %(s)s %(L)s'):
        logger.cfg = SimpleNamespace(access_log_format=log_format)
        lines.clear()
        logger.access(resp, req, environ, took)
        assert lines == [log_format % SafeAtoms(logger.atoms(resp, req, environ, took))]
        assert "SeCrEtToKeN123" not in lines[0] and "198.51.100.9" not in lines[0] and "10.0.0.1" not in lines[0]


def test_database_errors_in_logs_carry_no_signer_data(app):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError) as caught:  # no such campaign: the foreign key refuses the row
        db.session.execute(sa.insert(Signature).values(
            campaign_id=424242, first_name="Zhenya", last_name="Kuznetsova", email="zhenya@example.org",
            email_hash="h", country="RU", created_at=sa.func.now(), consent_email=False, consent_sms=False,
            consent_share=False, language="ru"))
        db.session.flush()
    db.session.rollback()
    assert "Zhenya" not in str(caught.value) and "zhenya@example.org" not in str(caught.value)

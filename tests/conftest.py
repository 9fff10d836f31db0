"""Fixtures: an app per test on SQLite (default) or PostgreSQL (DATABASE_URL), CSRF on as in production."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.ctx import _cv_app
from flask.testing import FlaskClient

from petition_app import create_app
from petition_app.extensions import db
from tests.mailbox import SMTPServer

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgresql")


def _require(var: str) -> bool:
    return os.environ.get(var, "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """One database per test session: a fresh schema on PostgreSQL, a fresh file on SQLite."""
    if not ON_POSTGRES:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        return
    schema = "test_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(DATABASE_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        if _require("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable at DATABASE_URL: {error}")
    separator = "&" if "?" in DATABASE_URL else "?"
    # The tests' sessions do not wait for each commit to reach the disk (synchronous_commit=off: a crash of the
    # server could lose the last few commits, never corrupt anything); what they check does not depend on it, and
    # the thousands of commits of the suite stop waiting on fsync.
    yield f"{DATABASE_URL}{separator}options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def _tables(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return True


def empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(16),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PUBLIC_URL": "http://localhost",
        "RATELIMIT_ENABLED": False,
        "COUNTER_CACHE_SECONDS": 0,
        # Cheap argon2 parameters: tests check the logic, not the hashing cost.
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 1024,
    }


class IsolatedClient(FlaskClient):
    """Give every request its own app context, as in production, even while a test holds one open.

    A streamed body is read at once in the request's own context, as a server reads it (a stream_with_context
    view pops that context when its body is exhausted); the chunks stay separate.
    """

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            response = super().open(*args, **kwargs)
            request_context = _cv_app.get()
        finally:
            _cv_app.reset(token)
        if response.is_streamed:
            response.response = _read_in(request_context, response.response)
        return response


def _read_in(context, body):
    """Read a streamed body chunk by chunk in the request's context; hand back the chunks, still as a stream."""
    token = _cv_app.set(context)
    try:
        chunks = list(body)
    finally:
        if hasattr(body, "close"):
            body.close()
        _cv_app.reset(token)
    return iter(chunks)


@pytest.fixture
def make_app(app_config, _tables):
    """Build an app with extra settings; every app's data is wiped after the test."""
    apps = []

    def factory(**overrides):
        app = create_app({**app_config, **overrides})
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            empty_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def csrf_token(client, path: str = "/") -> str:
    """Fetch a page as a browser would and read its CSRF token."""
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


@pytest.fixture
def make_campaign(app):
    from petition_app.models import Campaign, CampaignStatus, Organisation

    def factory(slug: str | None = None, org: Organisation | None = None, **fields) -> Campaign:
        if org is None:
            org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "test-org")).scalar()
            if org is None:
                org = Organisation(slug="test-org", name="Test Organisation")
                db.session.add(org)
        fields.setdefault("status", CampaignStatus.OPEN)
        fields.setdefault("title", "Free the test campaign")
        fields.setdefault("lead", "A lead paragraph.")
        fields.setdefault("goal", 100)
        campaign = Campaign(slug=slug or f"c-{uuid.uuid4().hex[:8]}", organisation=org, **fields)
        db.session.add(campaign)
        db.session.commit()
        return campaign

    return factory


VALID_SIGNATURE = {
    "first_name": "Anna",
    "last_name": "Ivanova",
    "email": "anna@example.org",
    "country": "DE",
}


def sign_data(client, campaign_slug: str, **fields) -> dict:
    data = {**VALID_SIGNATURE, **fields}
    data.setdefault("csrf_token", csrf_token(client, f"/campaigns/{campaign_slug}"))
    return data


ROOT = Path(__file__).resolve().parent.parent


# -- admin accounts ------------------------------------------------------------------------------------------------

ADMIN_PASSWORD = "a long enough test password"


def make_org(slug: str, name: str | None = None, **fields):
    """The organisation with this slug, created if missing."""
    from petition_app.models import Organisation

    org = db.session.execute(sa.select(Organisation).where(Organisation.slug == slug)).scalar()
    if org is None:
        org = Organisation(slug=slug, name=name or slug.replace("-", " ").title(), **fields)
        db.session.add(org)
        db.session.commit()
    return org


def make_user(email: str, *roles, superuser: bool = False, password: str = ADMIN_PASSWORD):
    """An admin account with (organisation, role) memberships."""
    from petition_app.models import Membership, User
    from petition_app.passwords import hash_password

    user = User(email=email, password_hash=hash_password(password), is_superuser=superuser)
    db.session.add(user)
    db.session.flush()
    for org, role in roles:
        db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=role))
    db.session.commit()
    return user


def log_in(app_or_client, email: str, password: str = ADMIN_PASSWORD):
    """Log a client in through the login form (a new client when given the app); returns the client."""
    client = app_or_client.test_client() if hasattr(app_or_client, "test_client") else app_or_client
    response = client.post("/admin/login", data={"email": email, "password": password,
                                                 "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free port; what it receives is in ``smtp.box``."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings() -> dict:
    """Extra settings for ``mail_app``; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def mail_app(make_app, smtp, mail_settings):
    """An app that sends its mail to ``smtp``, with an app context pushed."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5, **mail_settings)
    with app.app_context():
        yield app


def redis_or_skip(url: str):
    """A client for the Redis at ``url``; skips the test when it is unreachable (fails under REQUIRE_REDIS=1)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_REDIS", "") not in ("", "0"):
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but unreachable: {error}")
        pytest.skip(f"Redis unreachable at {url}: {error}")
    return client


@contextlib.contextmanager
def sql_statements(engine):
    """Every SQL statement ``engine`` sends while the block runs (the yielded list fills as they are sent)."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def at_the_same_moment(app, attempts: int, work) -> list:
    """Run `work()` in `attempts` threads released together, each in an app context of its own (as concurrent
    requests are); their results. Any error in a thread fails the test."""
    barrier = threading.Barrier(attempts)
    results: list = []
    errors: list[BaseException] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with app.app_context():
                results.append(work())
                db.session.remove()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results

"""Pooled PostgreSQL connections: one whose server end went away is never handed to a request."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Signature
from tests.conftest import DATABASE_URL, ON_POSTGRES, sign_data

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: SQLite has no server to go away")

BROWSER = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}


def _pooled_backends(app) -> set[int]:
    """The server processes behind every connection in the app's pool (checked out together, then returned)."""
    with app.app_context():
        engine = db.engine
        connections = [engine.connect() for _ in range(engine.pool.checkedin())]
        try:
            return {c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() for c in connections}
        finally:
            for connection in connections:
                connection.close()


def _terminate(pids: set[int]) -> None:
    """End these backends (the test's own connections only), as a server restart or an administrator would."""
    engine = sa.create_engine(DATABASE_URL)
    try:
        with engine.connect() as conn:
            for pid in pids:
                assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
            deadline = time.monotonic() + 10
            while conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                               {"pids": list(pids)}).scalar_one() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        engine.dispose()


def test_a_signature_right_after_the_server_ended_the_pooled_connections_is_stored(app, client, make_campaign):
    make_campaign(slug="restart", count_confirmed_only=False)
    data = sign_data(client, "restart")
    assert client.post("/campaigns/restart/sign", data={**data, "email": "before@example.org"},
                       headers=BROWSER).status_code == 303
    pids = _pooled_backends(app)
    assert pids
    _terminate(pids)
    # The connection was used a moment ago, so no ping: the check at checkout sees the server's goodbye.
    response = client.post("/campaigns/restart/sign", data={**data, "email": "after@example.org"}, headers=BROWSER)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one() == 2
        assert not _pooled_backends(app) & pids  # the ended connections left the pool

"""Per-connection database settings."""

from __future__ import annotations

import os
import select
import time

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

# A pooled PostgreSQL connection idle for longer than this is pinged (a round trip) before use; one used more recently
# is only checked locally (below). Quiet sites pay a ping now and then, a busy one none.
PING_AFTER_IDLE_SECONDS = 10.0


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # wiped signer data does not linger in free pages
    cursor.execute("PRAGMA busy_timeout=30000")
    # Before WAL mode: SQLite gives the -wal and -shm files the database file's mode, so make that owner-only first.
    for _seq, name, path in cursor.execute("PRAGMA database_list").fetchall():
        if name == "main" and path:
            _owner_only(path)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's lower() folds ASCII only; PostgreSQL's folds every script (admin name search, e.g. Cyrillic names).
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _owner_only(path: str) -> None:
    try:
        if os.stat(path).st_mode & 0o777 != 0o600:
            os.chmod(path, 0o600)
    except OSError:  # another account's file: reported by `flask check`, not fatal here
        pass


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def _note_checkin(_dbapi_connection, record) -> None:
    if record is not None:
        record.info["idle_since"] = time.monotonic()


def _check_on_checkout(dbapi_connection, record, _proxy) -> None:
    """Hand out only a PostgreSQL connection whose server end is still there, without a round trip when recently used.

    A server that ended a backend (a restart, a failover, an administrator) has sent its goodbye and closed the
    socket: an idle connection has nothing to read unless that happened, which one non-blocking poll tells. A ping
    (what pool_pre_ping does at every checkout) costs a round trip to the server per request; it is kept for
    connections idle longer than PING_AFTER_IDLE_SECONDS, which may have been dropped silently by the network.
    Raising DisconnectionError makes the pool discard this connection and hand out another one.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError("the connection is closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise exc.DisconnectionError("the server ended the connection")
    idle_since = record.info.get("idle_since")  # None: a new connection, just made
    if idle_since is not None and time.monotonic() - idle_since > PING_AFTER_IDLE_SECONDS:
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()  # the ping's transaction: nothing else on the connection yet
        except Exception as error:
            raise exc.DisconnectionError("the ping failed") from error


def init_app(app: Flask) -> None:
    from petition_app.extensions import db

    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite" and not getattr(engine, "_petition_pragmas", False):
            event.listen(engine, "connect", _sqlite_pragmas)
            engine._petition_pragmas = True  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql" and not getattr(engine, "_petition_checkout", False):
            event.listen(engine, "checkin", _note_checkin)
            event.listen(engine, "checkout", _check_on_checkout)
            engine._petition_checkout = True  # type: ignore[attr-defined]


def checkpoint_wal() -> None:
    """After an erasure, copy SQLite's WAL into the database (secure_delete zeroes the rows there) and truncate it,
    so erased personal data has no copy left in the -wal file. Best effort: readers still open keep old pages."""
    from petition_app.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

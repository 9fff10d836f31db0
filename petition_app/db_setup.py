"""Per-connection database settings."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


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


def init_app(app: Flask) -> None:
    from petition_app.extensions import db

    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite" and not getattr(engine, "_petition_pragmas", False):
            event.listen(engine, "connect", _sqlite_pragmas)
            engine._petition_pragmas = True  # type: ignore[attr-defined]


def checkpoint_wal() -> None:
    """After an erasure, copy SQLite's WAL into the database (secure_delete zeroes the rows there) and truncate it,
    so erased personal data has no copy left in the -wal file. Best effort: readers still open keep old pages."""
    from petition_app.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

"""One signing write at a time on SQLite, queued in the app rather than in SQLite's busy handler.

SQLite lets one writer at a time into the file. Under a burst of signers, the others wait in SQLite's busy handler,
which sleeps with growing delays (up to 100 ms between tries) and so misses the moment the lock is free: a short
median and a tail of over a second. The short write transactions of the sign and confirm POSTs therefore queue on a
lock each process holds per database (threads) and then on an `flock` of a file beside the database (processes),
and take SQLite's write lock up front with BEGIN IMMEDIATE: a waiter starts the moment the one before it commits.

Other writers (the mail worker, admin pages, CLI commands) do not take this lock; they keep SQLite's busy timeout.
That cannot deadlock: the lock is only taken by a connection holding no SQLite transaction, so whoever holds it
waits on SQLite at most (never the other way round). On PostgreSQL it does nothing: rows lock one by one there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from petition_app.extensions import db

_locks: dict[str, tuple[threading.Lock, int]] = {}
_guard = threading.Lock()


def lock_path(database: str) -> str:
    """The lock file of a SQLite database file."""
    return database + "-writelock"


def _lock_for(database: str) -> tuple[threading.Lock, int]:
    with _guard:
        found = _locks.get(database)
        if found is None:
            fd = os.open(lock_path(database), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            found = _locks[database] = (threading.Lock(), fd)
        return found


def _after_fork() -> None:
    # A forked child must not share its parent's open file description: flock would count both as one holder.
    global _guard
    _guard = threading.Lock()
    for _lock, fd in _locks.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _locks.clear()


os.register_at_fork(after_in_child=_after_fork)


@contextlib.contextmanager
def serialised() -> Iterator[None]:
    """Run the session's next write transaction (up to its commit or rollback) as the only signing writer.

    On SQLite with a database file, and only when the session's connection holds no transaction yet: take this
    process's lock, the lock file's `flock`, then BEGIN IMMEDIATE. Anywhere else, run the block as it is.
    """
    connection = db.session.connection()
    database = connection.engine.url.database if connection.dialect.name == "sqlite" else None
    raw = connection.connection.driver_connection
    if not database or database == ":memory:" or raw.in_transaction:
        yield
        return
    thread_lock, fd = _lock_for(os.path.abspath(database))
    with thread_lock:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            raw.execute("BEGIN IMMEDIATE")  # on the driver's connection: transaction control, not a statement
            yield
        finally:
            if db.session().in_transaction():  # the block raised before its commit: end it before letting go
                db.session.rollback()
            fcntl.flock(fd, fcntl.LOCK_UN)

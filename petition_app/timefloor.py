"""Work whose time could tell something about a person takes as long whichever way it went.

Signing with an address that has signed and with a new one run the same statements, and "Forgot your password?"
does the same work whether or not the address has an account, but the database does not do the same work for them:
a new row and its index entries, an update of a stored row, or nothing to write and no log to flush; an account
read into an object, or none. Measured one request at a time over loopback, that shows: a fraction of a millisecond,
enough to tell the two apart most of the time (`bench/sign_timing.py`, `bench/password_reset.py`). The work cannot
be made equal to the microsecond on every machine, so the time is: each piece of such work is held until it has
taken as long as nearly all recent work of its name in this process took (a high quantile of the last WINDOW),
whichever way it went. On a quiet server, where a difference could be measured, that costs about a millisecond.
Under load the work's own spread (waiting for the database) is many times the difference, and the wait is capped at
MAX_WAIT so that a spike does not hold the server's threads asleep.

    started = time.perf_counter()
    ...  # the work
    timefloor.hold("sign", started)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from flask import current_app

WINDOW = 500  # the recent pieces of work of one name the floor is taken from
QUANTILE = 0.98  # this share of recent work took no longer than the floor
REFRESH = 25  # the floor is worked out again after this many (and after each of the first WINDOW)
MAX_WAIT = 0.005  # seconds; nothing waits longer


class TimeFloor:
    """Hold each piece of work until it has taken the floor: `hold(took)` after it, with the seconds it took."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._recent: deque[float] = deque(maxlen=WINDOW)
        self._floor = 0.0
        self._since = 0
        self._lock = threading.Lock()

    @property
    def floor(self) -> float:
        return self._floor

    def hold(self, took: float) -> float:
        """Record work that took `took` seconds and wait until it has taken the floor; the seconds waited."""
        with self._lock:
            self._recent.append(took)
            self._since += 1
            if self._since >= REFRESH or len(self._recent) < WINDOW:
                self._since = 0
                ordered = sorted(self._recent)
                self._floor = ordered[int(QUANTILE * (len(ordered) - 1))]
            wait = min(self._floor - took, MAX_WAIT)
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0


def floors() -> dict[str, TimeFloor]:
    """The app's floors by name, one set per process (each worker times its own work); made by create_app."""
    return current_app.extensions["time_floors"]


def hold(name: str, started: float) -> float:
    """Hold the work named `name`, begun at `started` (time.perf_counter()), until it has taken its floor."""
    found = floors()
    floor = found.get(name) or found.setdefault(name, TimeFloor())
    return floor.hold(time.perf_counter() - started)

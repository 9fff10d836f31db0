"""A signature's write takes as long whether the address had signed or not.

A new address and one that has signed run the same statements, but the database does not do the same work for
them: a new row and its index entries, an update of the stored row, or (a repeat over the mail limit) nothing to
write and no log to flush. Measured one request at a time over loopback, that shows: a fraction of a millisecond,
enough to tell the two apart most of the time (`bench/sign_timing.py`). The work cannot be made equal to the
microsecond on every machine, so the time is: every write is held until it has taken as long as nearly all recent
writes of this process took (a high quantile of the last WINDOW), whichever path it took. On a quiet server, where
a difference could be measured, that costs about a millisecond per signature. Under load the writes' own
spread (waiting for the database) is many times the difference, and the wait is capped at MAX_WAIT so that a spike
does not hold the server's threads asleep.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW = 500  # the recent writes of this process the floor is taken from
QUANTILE = 0.98  # this share of recent writes took no longer than the floor
REFRESH = 25  # the floor is worked out again after this many writes (and after each of the first WINDOW)
MAX_WAIT = 0.005  # seconds; no write waits longer


class TimeFloor:
    """Hold each write until it has taken the floor: `hold(took)` after it, with the seconds it took."""

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
        """Record a write that took `took` seconds and wait until it has taken the floor; the seconds waited."""
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

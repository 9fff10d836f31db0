"""A small expiring cache: in process by default, Redis when REDIS_URL is set."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def read_stamp(path: str | None) -> tuple[int, int] | None:
    """The identity of the stamp file that `clear_shared` renews (None without one): a change empties a cache."""
    if not path:
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


class MemoryCache:
    """One process's cache. With a stamp file, `clear_shared` in any process empties every process's cache."""

    MAX_ENTRIES = 50_000  # pages, counters, signing targets, repeat-limit marks (one per signer for 10 minutes)

    def __init__(self, stamp_path: str | None = None, max_entries: int = MAX_ENTRIES) -> None:
        self._data: dict[str, tuple[float, Any]] = {}
        self._max = max_entries
        self._lock = threading.Lock()
        self._stamp_path = stamp_path
        self._stamp = self._read_stamp()
        self._generation = 0  # moves with every drop: see set_unless_dropped
        self._request = threading.local()  # whether this thread's request has checked the stamp (begin_request)

    @property
    def stamp_path(self) -> str | None:
        return self._stamp_path

    def _read_stamp(self) -> tuple[int, int] | None:
        return read_stamp(self._stamp_path)

    def begin_request(self) -> None:
        """A request starts in this thread: its first read checks the stamp file and its later reads trust that
        check. A drop in another process shows from the next request on, as it would with a check per read; one
        `stat` per request rather than per read (a thread that gives up the interpreter lock for a system call
        waits to take it back, which under load costs far more than the call)."""
        self._request.checked = False

    def end_request(self) -> None:
        self._request.__dict__.pop("checked", None)  # outside a request, every read checks again

    def _check_stamp(self) -> None:
        if not self._stamp_path:
            return
        checked = getattr(self._request, "checked", None)
        if checked:
            return
        stamp = self._read_stamp()
        if stamp != self._stamp:
            with self._lock:
                self._data.clear()
                self._stamp = stamp
                self._generation += 1
        if checked is False:
            self._request.checked = True

    def get(self, key: str) -> Any | None:
        self._check_stamp()
        item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            if len(self._data) >= self._max:
                self._prune()
            self._data[key] = (time.monotonic() + ttl, value)

    def _prune(self) -> None:
        """Down to half the maximum: the expired entries, then if need be the oldest set (a dict keeps the order
        of insertion). Half, so that the next prune is max/2 sets away: pruning to just under the maximum made
        every set past it copy the whole dict (a spike's repeat-limit marks live 10 minutes, so none expire)."""
        now = time.monotonic()
        kept = {k: v for k, v in self._data.items() if v[0] >= now}
        keep = self._max // 2
        if len(kept) > keep:
            kept = dict(list(kept.items())[len(kept) - keep:])
        self._data = kept

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._generation += 1

    def generation(self) -> int:
        """Read before computing a value that a drop must not outlive; give it to set_unless_dropped."""
        self._check_stamp()
        return self._generation

    def set_unless_dropped(self, key: str, value: Any, ttl: float, generation: int) -> None:
        """Set, unless something was dropped since `generation` was read: the value may predate the drop."""
        self._check_stamp()
        with self._lock:
            if self._generation == generation:
                self._data[key] = (time.monotonic() + ttl, value)

    def drop_prefix(self, prefix: str) -> None:
        """Drop the keys under a prefix here, and everything in the other workers on this machine (stamp file)."""
        if self._stamp_path:
            tmp = f"{self._stamp_path}.{uuid.uuid4().hex}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.replace(tmp, self._stamp_path)  # a new inode: every process sees a new stamp
        with self._lock:
            self._data = {k: v for k, v in self._data.items() if not k.startswith(prefix)}
            self._stamp = self._read_stamp()
            self._generation += 1


_GENERATION = "generation"  # counts drops (RedisCache)
_SET_UNLESS_DROPPED = """
if tonumber(redis.call('GET', KEYS[1]) or '0') == tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
"""


class RedisCache:
    def __init__(self, url: str, prefix: str = "petition_app:cache:") -> None:
        self._client = redis_client(url)
        self._prefix = prefix

    def begin_request(self) -> None:  # every read asks Redis, which holds the drops
        pass

    def end_request(self) -> None:
        pass

    def get(self, key: str) -> Any | None:
        try:
            raw = self._client.get(self._prefix + key)
        except Exception as error:  # a cache outage must not take the page down
            log.warning("cache unavailable: %s", type(error).__name__)
            return None
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: float) -> None:
        try:
            self._client.set(self._prefix + key, json.dumps(value), px=max(1, int(ttl * 1000)))
        except Exception as error:
            log.warning("cache unavailable: %s", type(error).__name__)

    def delete(self, key: str) -> None:
        try:
            self._client.delete(self._prefix + key)
        except Exception as error:
            log.warning("cache unavailable: %s", type(error).__name__)

    def clear(self) -> None:
        try:
            for key in self._client.scan_iter(self._prefix + "*"):
                self._client.delete(key)
        except Exception as error:
            log.warning("cache unavailable: %s", type(error).__name__)

    def generation(self) -> int | None:
        """Read before computing a value that a drop must not outlive; give it to set_unless_dropped."""
        try:
            return int(self._client.get(self._prefix + _GENERATION) or 0)
        except Exception as error:
            log.warning("cache unavailable: %s", type(error).__name__)
            return None

    def set_unless_dropped(self, key: str, value: Any, ttl: float, generation: int | None) -> None:
        """Set, unless something was dropped since `generation` was read (checked and set atomically)."""
        if generation is None:
            return
        try:
            self._client.eval(_SET_UNLESS_DROPPED, 2, self._prefix + _GENERATION, self._prefix + key,
                              generation, json.dumps(value), max(1, int(ttl * 1000)))
        except Exception as error:
            log.warning("cache unavailable: %s", type(error).__name__)

    def drop_prefix(self, prefix: str) -> None:
        try:
            self._client.incr(self._prefix + _GENERATION)
            keys = list(self._client.scan_iter(self._prefix + prefix + "*", count=500))
            if keys:
                self._client.delete(*keys)
        except Exception as error:
            log.warning("cache unavailable: %s", type(error).__name__)


def make_cache(redis_url: str | None, key_prefix: str = "petition_app:", stamp_path: str | None = None):
    return RedisCache(redis_url, key_prefix + "cache:") if redis_url else MemoryCache(stamp_path)

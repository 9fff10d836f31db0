"""A small expiring cache: in process by default, Redis when REDIS_URL is set."""

from __future__ import annotations

import json
import logging
import threading
import time
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class MemoryCache:
    def __init__(self) -> None:
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            if len(self._data) > 10_000:
                now = time.monotonic()
                self._data = {k: v for k, v in self._data.items() if v[0] >= now}
            self._data[key] = (time.monotonic() + ttl, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    def __init__(self, url: str, prefix: str = "petition_app:cache:") -> None:
        self._client = redis_client(url)
        self._prefix = prefix

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


def make_cache(redis_url: str | None, key_prefix: str = "petition_app:"):
    return RedisCache(redis_url, key_prefix + "cache:") if redis_url else MemoryCache()

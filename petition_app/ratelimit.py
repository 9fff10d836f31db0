"""Rate-limit storage whose keys say nothing: no client address, no action, no secret in the store.

Flask-Limiter names each counter ``LIMITER/<client key>/<endpoint>/<amount>/...``. The client key is already a
keyed hash of the address (``privacy.rate_limit_key``), but the endpoint names the action and Redis would show who
was signing and who was logging in. These storages replace every key with an HMAC of it under a key derived from
SECRET_KEY, which never reaches the store: a dump of Redis (keys and values) holds only random-looking names and
small counters.
"""

from __future__ import annotations

import hashlib
import hmac

from limits.storage import MemoryStorage, RedisStorage

SCHEME_PREFIX = "opaque+"
KEY_PREFIX = "petition_app:rl"


def storage_uri(backend_uri: str) -> str:
    """The limiter storage URI for a backend (memory:// or a Redis URL) with opaque keys."""
    return SCHEME_PREFIX + backend_uri


class _OpaqueKeys:
    _key_source: object

    @property
    def _key_secret(self) -> bytes:
        """Derived when first needed: a generated SECRET_KEY is only created then (see config.AppConfig)."""
        if not hasattr(self, "_derived_key"):
            self._derived_key = _derive(self._key_source)
        return self._derived_key

    def _opaque(self, key: str) -> str:
        return hmac.new(self._key_secret, key.encode(), hashlib.sha256).hexdigest()[:40]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return super().incr(self._opaque(key), expiry, amount)  # type: ignore[misc]

    def get(self, key: str) -> int:
        return super().get(self._opaque(key))  # type: ignore[misc]

    def get_expiry(self, key: str) -> float:
        return super().get_expiry(self._opaque(key))  # type: ignore[misc]

    def clear(self, key: str) -> None:
        return super().clear(self._opaque(key))  # type: ignore[misc]


def _secret(options: dict) -> object:
    secret = options.pop("key_secret", "")
    if not secret:
        raise ValueError("rate-limit storage needs key_secret (RATELIMIT_STORAGE_OPTIONS)")
    return secret


def _derive(source: object) -> bytes:
    """The storage's key from the secret, or from a callable that returns it."""
    secret = source() if callable(source) else source
    if not secret:
        raise ValueError("rate-limit storage needs a non-empty key_secret")
    return hmac.new(str(secret).encode(), b"rate-limit-storage-keys", hashlib.sha256).digest()


class OpaqueMemoryStorage(_OpaqueKeys, MemoryStorage):
    STORAGE_SCHEME = ["opaque+memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._key_source = _secret(options)
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)


class OpaqueRedisStorage(_OpaqueKeys, RedisStorage):
    STORAGE_SCHEME = ["opaque+redis", "opaque+rediss", "opaque+redis+unix"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        self._key_source = _secret(options)
        key_prefix = options.pop("key_prefix", KEY_PREFIX)
        super().__init__(uri.removeprefix(SCHEME_PREFIX), key_prefix=key_prefix, wrap_exceptions=wrap_exceptions,
                         **options)

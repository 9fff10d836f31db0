"""Admin passwords: argon2id through argon2-cffi (its RFC 9106 defaults unless configured)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int | None, memory_kib: int | None) -> tuple[PasswordHasher, str]:
    options = {k: v for k, v in (("time_cost", time_cost), ("memory_cost", memory_kib)) if v}
    hasher = PasswordHasher(**options)
    # Verifying against this when the account does not exist keeps both answers equally slow.
    return hasher, hasher.hash("not a real password")


def _hasher() -> tuple[PasswordHasher, str]:
    config = current_app.config if has_app_context() else {}
    return _hasher_for(config.get("PASSWORD_HASH_TIME_COST"), config.get("PASSWORD_HASH_MEMORY_KIB"))


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)

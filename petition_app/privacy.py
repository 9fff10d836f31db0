"""Signer-data rules shared by every feature: normalising, keyed hashing, coarse times, rate-limit keys."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date, datetime, timezone

from flask import current_app, request


def normalise_email(address: str) -> str:
    """Return the form of an address used to recognise the same person: NFKC, trimmed, lower case."""
    address = unicodedata.normalize("NFKC", address).strip()
    local, _, domain = address.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return f"{local}@{domain}".lower() if local else address.lower()


def signer_hash_key() -> bytes:
    configured = current_app.config.get("SIGNER_HASH_KEY")
    if configured:
        return configured.encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"signer-hash-key", hashlib.sha256).digest()


def email_hash(address: str) -> str:
    """Keyed hash of a normalised address: de-duplicates and finds signatures without storing the address."""
    return hmac.new(signer_hash_key(), normalise_email(address).encode(), hashlib.sha256).hexdigest()


def coarse_now(now: datetime | None = None) -> datetime:
    """The current time (or `now`), truncated to the configured precision (an hour by default)."""
    now = datetime.now(timezone.utc) if now is None else now
    precision = current_app.config.get("SIGNATURE_TIME_PRECISION", "hour")
    if precision == "day":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "minute":
        return now.replace(second=0, microsecond=0)
    if precision == "second":
        return now.replace(microsecond=0)
    return now.replace(minute=0, second=0, microsecond=0)


def _daily_key(today: str) -> bytes:
    """Today's rate-limit key, derived from SECRET_KEY and the date: never stored, the same on every server."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"rate-limit-day:" + today.encode(), hashlib.sha256).digest()


def rate_limit_key() -> str:
    """Key rate limits by a keyed hash of the client address; the raw address is never kept."""
    today = date.today().isoformat()
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(_daily_key(today), address, hashlib.sha256).hexdigest()[:32]

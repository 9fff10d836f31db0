"""Link tokens for mails: the raw token travels in the link only; the database keeps its hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from petition_app.extensions import db
from petition_app.models.token import Token
from petition_app.privacy import coarse_now

CONFIRM, WITHDRAW, UNSUBSCRIBE = "confirm", "withdraw", "unsubscribe"


def token_hash(raw: str) -> str:
    """What the database keeps of a raw token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(purpose: str, days: int, **owner) -> str:
    """Create a token for one purpose; returns the raw value to put in a link (the caller commits).

    A signer's token carries times as coarse as the signature's (SIGNATURE_TIME_PRECISION): its times never tell
    when someone signed more precisely than the signature itself does.
    """
    raw = secrets.token_urlsafe(32)
    now = coarse_now() if owner.get("signature_id") is not None else datetime.now(timezone.utc)
    db.session.add(Token(token_hash=token_hash(raw), purpose=purpose, created_at=now,
                         expires_at=now + timedelta(days=days), **owner))
    return raw


def live(raw: str, purpose: str) -> tuple | None:
    """The conditions a live token with this raw value and purpose meets, for a query's WHERE; None when the value
    cannot be a token (empty or too long)."""
    if not raw or len(raw) > 100:
        return None
    return (Token.token_hash == token_hash(raw), Token.purpose == purpose,
            Token.expires_at > datetime.now(timezone.utc))


def find(raw: str, purpose: str) -> Token | None:
    """The live token with this value and purpose, or None (unknown, expired, malformed or for another purpose)."""
    conditions = live(raw, purpose)
    if conditions is None:
        return None
    return db.session.execute(select(Token).where(*conditions)).scalar_one_or_none()


def delete_expired() -> int:
    return db.session.execute(delete(Token).where(Token.expires_at < datetime.now(timezone.utc))
                              .execution_options(synchronize_session=False)).rowcount

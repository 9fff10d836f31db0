from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow


class Token(db.Model):
    """A link token: random, stored only as its SHA-256, scoped to one purpose, expiring."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"), index=True)
    starter_id: Mapped[int | None] = mapped_column(ForeignKey("starters.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

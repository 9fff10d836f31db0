from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow


class SiteSetting(db.Model):
    """One site setting edited in the admin (site_settings.py lists them), per language where it is text."""

    __tablename__ = "site_settings"
    __table_args__ = (UniqueConstraint("key", "language", name="uq_site_settings_key_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="")  # "" for a setting shared by every language
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

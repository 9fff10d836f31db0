from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow


class SitePage(db.Model):
    """An edited site page (privacy, terms, contact, FAQ) in one language; the shipped text is used until one exists."""

    __tablename__ = "site_pages"
    __table_args__ = (UniqueConstraint("name", "language", name="uq_site_pages_name_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SlugRedirect(db.Model):
    """An old campaign address that keeps working after a slug change."""

    __tablename__ = "slug_redirects"

    old_slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)

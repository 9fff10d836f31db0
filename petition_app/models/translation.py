"""Versions of a campaign (and of its updates) in other languages than the campaign's own.

The campaign row is the source version, in `Campaign.language`; a translation holds only the texts. Signatures,
the counter and the delivery list belong to the campaign, so every version shares them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow
from petition_app.models.campaign import Campaign, CampaignUpdate

# The campaign's texts a version translates, in the order the admin form shows them.
TRANSLATED_FIELDS = (
    "title", "lead", "body", "quote", "quote_attribution", "petition_heading", "targets", "petition_text",
    "demands", "petition_closing", "delivery_note",
)


class CampaignTranslation(db.Model):
    __tablename__ = "campaign_translations"
    __table_args__ = (UniqueConstraint("campaign_id", "language", name="uq_campaign_translations_campaign_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    lead: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    quote: Mapped[str] = mapped_column(Text, default="")
    quote_attribution: Mapped[str] = mapped_column(String(300), default="")
    petition_heading: Mapped[str] = mapped_column(String(300), default="")
    targets: Mapped[str] = mapped_column(Text, default="")
    petition_text: Mapped[str] = mapped_column(Text, default="")  # Markdown
    demands: Mapped[str] = mapped_column(Text, default="")
    petition_closing: Mapped[str] = mapped_column(Text, default="")  # Markdown
    delivery_note: Mapped[str] = mapped_column(Text, default="")
    # Fingerprint of the source texts this version was last confirmed against (campaign_versions.fingerprint);
    # when the source changes, the version needs an update until an editor confirms it again.
    source_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship(
        backref=backref("translations", cascade="all, delete-orphan", passive_deletes=True,
                        order_by="CampaignTranslation.language"),
    )

    @property
    def demand_list(self) -> list[str]:
        return [line.strip() for line in self.demands.splitlines() if line.strip()]


class CampaignUpdateTranslation(db.Model):
    __tablename__ = "campaign_update_translations"
    __table_args__ = (
        UniqueConstraint("update_id", "language", name="uq_campaign_update_translations_update_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_updates.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    update: Mapped[CampaignUpdate] = relationship(
        backref=backref("translations", cascade="all, delete-orphan", passive_deletes=True),
    )

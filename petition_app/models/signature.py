from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime


class Signature(db.Model):
    """One person's signature. Times are coarse (see privacy.coarse_now); no IP address is ever stored."""

    __tablename__ = "signatures"
    __table_args__ = (
        # Every read of this table is per campaign, and every signature writes each index: three, all led by
        # campaign_id (no index of campaign_id or of country alone; the ones below serve those reads).
        UniqueConstraint("campaign_id", "email_hash", name="uq_signatures_campaign_email"),
        # The admin overview's aggregates read these alone (covering indexes), not the table.
        Index("ix_signatures_campaign_country", "campaign_id", "country"),
        Index("ix_signatures_campaign_created", "campaign_id", "created_at", "confirmed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    # Keyed hash of the normalised address: one signature per person per campaign, enforced by the database.
    # NULL once the personal data is erased at the end of its retention period.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    # Names, email and phone sealed to the organisation's public key (the plain columns then stay empty).
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(32))
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the signer was last sent a mail.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Mails sent because the address signed again, on `repeat_day` only (a date, no finer): limits mail-bombing.
    repeat_day: Mapped[date | None] = mapped_column(Date)
    repeat_mails: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow
from petition_app.models.campaign import TAKEN_DOWN, Campaign


class StarterState(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"  # the contact address is not confirmed yet; moderators do not see it
    PENDING = "pending"  # in the moderation queue
    APPROVED = "approved"  # published
    REJECTED = "rejected"
    TAKEN_DOWN = TAKEN_DOWN


class Starter(db.Model):
    """Whoever proposed a campaign through "Start your campaign", and where the proposal stands."""

    __tablename__ = "starters"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True)
    public_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))  # private: never shown on any page
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[StarterState] = mapped_column(
        Enum(StarterState, name="starter_state", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=StarterState.UNCONFIRMED,
    )
    reason: Mapped[str] = mapped_column(Text, default="")  # for a rejection or take-down, mailed to the starter
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    campaign: Mapped[Campaign] = relationship(back_populates="starter")

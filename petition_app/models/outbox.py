from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxMessage(db.Model):
    """A mail queued in the same transaction as what caused it; the worker renders, sends and then wipes it.

    Personal data (address, first name, rendered bodies with their link tokens) is held only in `payload`, encrypted
    with a key that is not in the database (see mailer). Times of mail to a signer are as coarse as the signature's.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, name="outbox_status", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=OutboxStatus.QUEUED,
    )
    # Fixed when queued and reused by every attempt: a mail delivered twice (at least once) shows once.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    sender: Mapped[str] = mapped_column(String(320), default="")
    discreet: Mapped[bool] = mapped_column(Boolean, default=False)
    # Encrypted JSON; NULL once sent, cancelled or forgotten.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)

    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    # Set NULL once the mail is sent: a delivered mail keeps no link to its signer.
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="SET NULL"), index=True)
    # The update mailing this message belongs to (models/mailing.py), for its progress counts. No foreign key: SQLite
    # can add a column's key only inline, and then reflects it without its name or ON DELETE.
    mailing_id: Mapped[int | None] = mapped_column(Integer, index=True)

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def wipe_personal_data(self) -> None:
        self.payload = None

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow


class MailingStatus(enum.StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


class Mailing(db.Model):
    """An update mail to a campaign's signers who opted in, in one version per language.

    Progress is a cursor over signature ids, not a list of recipients: the worker queues the next few eligible
    signatures after `last_signature_id` and moves the cursor in the same transaction, so no personal data is
    copied ahead of time and a crash resumes where the last committed batch ended.
    """

    __tablename__ = "mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    status: Mapped[MailingStatus] = mapped_column(
        Enum(MailingStatus, name="mailing_status", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=MailingStatus.DRAFT,
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The cursor: every eligible signature with an id up to here has been queued.
    last_signature_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The newest signature when sending started: later signers are not mailed.
    up_to_signature_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # eligible when sending started
    queued: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # messages handed to the outbox
    # The throttle (MAIL_RATE_PER_MINUTE): messages queued since the start of the current minute.
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    versions: Mapped[list[MailingVersion]] = relationship(
        back_populates="mailing", cascade="all, delete-orphan", order_by="MailingVersion.language")

    def version_for(self, language: str, fallback: str) -> MailingVersion | None:
        """The version in `language`, else the one in `fallback` (the campaign's language), else any written one."""
        written = {v.language: v for v in self.versions if v.subject.strip()}
        return written.get(language) or written.get(fallback) or next(iter(written.values()), None)


class MailingVersion(db.Model):
    """A mailing's subject and Markdown body in one language."""

    __tablename__ = "mailing_versions"
    __table_args__ = (UniqueConstraint("mailing_id", "language", name="uq_mailing_versions_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered through markup.render_markdown
    mailing: Mapped[Mailing] = relationship(back_populates="versions")

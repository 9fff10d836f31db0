from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow
from petition_app.models.org import Organisation


class WebhookDetail(enum.StrEnum):
    """What a signature event tells an endpoint."""

    COUNTS = "counts"  # the campaign and its total, nothing about the signer
    SIGNER = "signer"  # also the signature (its id, country, language, consents, and the signer's details)


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class WebhookEndpoint(db.Model):
    """A URL of an organisation's own systems that receives its events, signed per Standard Webhooks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # The signing secret ("whsec_" + base64), encrypted under a key that is not in the database (see webhooks).
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    events: Mapped[str] = mapped_column(String(200))  # space-separated event types
    detail: Mapped[WebhookDetail] = mapped_column(_enum(WebhookDetail, "webhook_detail"),
                                                  default=WebhookDetail.COUNTS)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str] = mapped_column(String(300), default="")
    # Failed attempts in a row, and when the first of them happened (reset by any success).
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    organisation: Mapped[Organisation] = relationship()

    @property
    def event_types(self) -> list[str]:
        return self.events.split()


class WebhookDelivery(db.Model):
    """One event for one endpoint: queued in the transaction that caused it, sent (and retried) by the worker.

    The body is stored encrypted (it may carry a signer's details) and wiped once delivered or cancelled.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    # The `webhook-id` header: the same for every attempt and replay, so receivers can drop repeats.
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted JSON body; NULL once wiped
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "webhook_delivery_status"),
                                                   default=DeliveryStatus.QUEUED)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    # Set NULL once delivered: a sent event keeps no link to its signer.
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="SET NULL"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    endpoint: Mapped[WebhookEndpoint] = relationship()

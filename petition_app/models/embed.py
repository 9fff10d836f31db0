from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from petition_app.extensions import db


class EmbedOrigin(db.Model):
    """A partner site (scheme, host and port) allowed to show a campaign's embeddable page in a frame."""

    __tablename__ = "embed_origins"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(255), primary_key=True)

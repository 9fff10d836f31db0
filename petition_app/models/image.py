"""Pictures attached to campaigns and organisations: which re-encoded image (by its content-hashed name) and how big.

The files themselves live under MEDIA_DIR (see images.py); a row only names them, so one picture used twice is
stored once and its files go when the last row naming it goes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow


class ImageFields:
    """The stored variants of one picture: `<name>-<width>.webp` and `.jpg` for each width in `widths`."""

    name: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(Integer)  # of the largest variant
    height: Mapped[int] = mapped_column(Integer)
    widths: Mapped[str] = mapped_column(String(60))  # "480,800,1200"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def width_list(self) -> list[int]:
        return [int(w) for w in self.widths.split(",") if w]

    def height_at(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


class CampaignImage(ImageFields, db.Model):
    """A campaign's picture (shown at the top of its page, on cards and in its share card), with its alt text."""

    __tablename__ = "campaign_images"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    alt: Mapped[str] = mapped_column(String(300))
    campaign = relationship("Campaign", backref=backref("image", uselist=False, passive_deletes=True))


class OrganisationLogo(ImageFields, db.Model):
    """An organisation's logo; its alt text is the organisation's name."""

    __tablename__ = "organisation_logos"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    organisation = relationship("Organisation", backref=backref("logo", uselist=False, passive_deletes=True))

from __future__ import annotations

import enum
from datetime import date, datetime, timezone

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    and_,
    event,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow
from petition_app.models.org import Organisation

# StarterState.TAKEN_DOWN (models.starter, which imports this module): a moderator took the campaign down.
TAKEN_DOWN = "taken_down"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    DELIVERED = "delivered"


def accepts_signatures(status: CampaignStatus, deadline: datetime | None) -> bool:
    """Open: the status is open and the deadline, if any, is still ahead (Campaign.is_open and the sign path's)."""
    return status == CampaignStatus.OPEN and (deadline is None or deadline > datetime.now(timezone.utc))


campaign_partners = Table(
    "campaign_partners",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("offline_count >= 0", name="offline_count_not_negative"),
        CheckConstraint("signature_count >= 0", name="signature_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    title: Mapped[str] = mapped_column(String(300))
    lead: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    quote: Mapped[str] = mapped_column(Text, default="")
    quote_attribution: Mapped[str] = mapped_column(String(300), default="")

    # The petition itself: heading, addressees, text, demands (one a line), closing text.
    petition_heading: Mapped[str] = mapped_column(String(300), default="")
    targets: Mapped[str] = mapped_column(Text, default="")
    petition_text: Mapped[str] = mapped_column(Text, default="")  # Markdown
    demands: Mapped[str] = mapped_column(Text, default="")
    petition_closing: Mapped[str] = mapped_column(Text, default="")  # Markdown

    goal: Mapped[int] = mapped_column(Integer, default=1000)
    goal_fixed: Mapped[bool] = mapped_column(Boolean, default=False)
    offline_count: Mapped[int] = mapped_column(Integer, default=0)
    # Count only confirmed signatures (the default). Counting unconfirmed ones lets anyone learn whether an address
    # has signed (sign with it and watch the count); an organiser may opt in to that, explicitly.
    count_confirmed_only: Mapped[bool] = mapped_column(Boolean, default=True)
    # Online signatures that count, folded by `flask recount`; the rest is in counter shards (see counts.py).
    count_base: Mapped[int] = mapped_column("signature_count", Integer, default=0)

    status: Mapped[CampaignStatus] = mapped_column(
        Enum(CampaignStatus, name="campaign_status", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=CampaignStatus.DRAFT,
    )
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the campaign was closed or delivered; personal data is erased a retention period after it.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Confirmation mails with a neutral subject and sender that do not reveal the campaign's topic.
    discreet_mail: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_note: Mapped[str] = mapped_column(Text, default="")
    started_by: Mapped[str] = mapped_column(String(200), default="")

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    partners: Mapped[list[Organisation]] = relationship(secondary=campaign_partners, order_by=Organisation.name)
    updates: Mapped[list[CampaignUpdate]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan",
        order_by=lambda: (CampaignUpdate.published_on.desc(), CampaignUpdate.id.desc()),
    )
    related_links: Mapped[list[RelatedCampaign]] = relationship(
        foreign_keys=lambda: [RelatedCampaign.campaign_id], cascade="all, delete-orphan",
        order_by=lambda: RelatedCampaign.position,
    )

    # Set when the campaign was proposed through "Start your campaign" (models.starter, resolved by name).
    starter: Mapped[Starter | None] = relationship(  # noqa: F821
        "Starter", back_populates="campaign", uselist=False, viewonly=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def demand_list(self) -> list[str]:
        return [line.strip() for line in self.demands.splitlines() if line.strip()]

    @property
    def is_open(self) -> bool:
        return accepts_signatures(self.status, self.deadline)

    @property
    def published_updates(self) -> list[CampaignUpdate]:
        return [u for u in self.updates if u.approved]

    @hybrid_property
    def is_public(self) -> bool:
        """Published: not a draft, and not taken down by a moderator. The one definition, in Python and in SQL."""
        return self.status != CampaignStatus.DRAFT and not (
            self.starter is not None and self.starter.state == TAKEN_DOWN)

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls):
        return and_(cls.status != CampaignStatus.DRAFT, ~cls.starter.has(state=TAKEN_DOWN))

    @property
    def total_count(self) -> int:
        return self.signature_count + self.offline_count

    @hybrid_property
    def signature_count(self) -> int:
        """Online signatures that count: the folded base plus the counter shards."""
        return (self.count_base or 0) + (getattr(self, "count_pending", None) or 0)

    @signature_count.inplace.expression
    @classmethod
    def _signature_count_expression(cls):
        return cls.count_base + cls.count_pending

    @signature_count.inplace.setter
    def _signature_count_setter(self, value: int) -> None:
        self.count_base = value - (getattr(self, "count_pending", None) or 0)

    def __repr__(self) -> str:
        return f"<Campaign {self.slug}>"


@event.listens_for(Campaign.status, "set")
def _remember_closing(campaign: Campaign, value, old, _initiator) -> None:
    """Stamp closed_at whenever a campaign is closed or delivered, whichever code path does it."""
    if value in (CampaignStatus.CLOSED, CampaignStatus.DELIVERED) and old not in (
        CampaignStatus.CLOSED, CampaignStatus.DELIVERED
    ):
        campaign.closed_at = datetime.now(timezone.utc)
    elif value in (CampaignStatus.OPEN, CampaignStatus.DRAFT):
        campaign.closed_at = None


class RelatedCampaign(db.Model):
    """An ordered "more ways to take action" link from one campaign to another."""

    __tablename__ = "related_campaigns"
    __table_args__ = (CheckConstraint("campaign_id <> related_id", name="not_self"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    related: Mapped[Campaign] = relationship(foreign_keys=[related_id])


class CampaignUpdate(db.Model):
    __tablename__ = "campaign_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    published_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # Updates posted by a campaign's starter wait for a moderator; the organisation's own are published at once.
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    campaign: Mapped[Campaign] = relationship(back_populates="updates")

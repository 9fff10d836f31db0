"""Counter shards: signers of one campaign add to one of several rows instead of all queuing on one."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from petition_app.extensions import db
from petition_app.models.campaign import Campaign


class CampaignCount(db.Model):
    """A share of a campaign's online count; the count is the campaign's folded base plus the sum of its shards."""

    __tablename__ = "campaign_counts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)


# Loaded with every campaign: one indexed sum over at most COUNTER_SHARDS rows.
Campaign.count_pending = column_property(
    select(func.coalesce(func.sum(CampaignCount.n), 0))
    .where(CampaignCount.campaign_id == Campaign.id)
    .correlate_except(CampaignCount)
    .scalar_subquery()
)

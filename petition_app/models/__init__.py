"""Database models, one module per aggregate."""

from petition_app.models.campaign import Campaign, CampaignStatus, CampaignUpdate, RelatedCampaign, campaign_partners
from petition_app.models.org import Organisation
from petition_app.models.outbox import OutboxMessage, OutboxStatus
from petition_app.models.signature import Signature
from petition_app.models.token import Token

__all__ = [
    "Campaign",
    "CampaignStatus",
    "CampaignUpdate",
    "Organisation",
    "OutboxMessage",
    "OutboxStatus",
    "RelatedCampaign",
    "Signature",
    "Token",
    "campaign_partners",
]

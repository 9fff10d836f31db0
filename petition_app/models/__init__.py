"""Database models, one module per aggregate."""

from petition_app.models.campaign import Campaign, CampaignStatus, CampaignUpdate, RelatedCampaign, campaign_partners
from petition_app.models.org import Organisation
from petition_app.models.signature import Signature

__all__ = [
    "Campaign",
    "CampaignStatus",
    "CampaignUpdate",
    "Organisation",
    "RelatedCampaign",
    "Signature",
    "campaign_partners",
]

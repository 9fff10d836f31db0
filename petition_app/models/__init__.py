"""Database models, one module per aggregate."""

from petition_app.models.audit import AuditEntry
from petition_app.models.campaign import Campaign, CampaignStatus, CampaignUpdate, RelatedCampaign, campaign_partners
from petition_app.models.count import CampaignCount
from petition_app.models.embed import EmbedOrigin
from petition_app.models.image import CampaignImage, OrganisationLogo
from petition_app.models.link_request import StarterLinkRequest
from petition_app.models.mailing import Mailing, MailingStatus, MailingVersion
from petition_app.models.org import Organisation
from petition_app.models.outbox import OutboxMessage, OutboxStatus
from petition_app.models.page import SitePage, SlugRedirect
from petition_app.models.signature import Signature
from petition_app.models.site_setting import SiteSetting
from petition_app.models.starter import Starter, StarterState
from petition_app.models.token import Token
from petition_app.models.translation import CampaignTranslation, CampaignUpdateTranslation
from petition_app.models.user import AccountToken, Invitation, Membership, RecoveryCode, Role, User
from petition_app.models.webhook import DeliveryStatus, WebhookDelivery, WebhookDetail, WebhookEndpoint

__all__ = [
    "AccountToken",
    "Invitation",
    "RecoveryCode",
    "AuditEntry",
    "Membership",
    "Role",
    "SitePage",
    "SiteSetting",
    "SlugRedirect",
    "User",
    "Campaign",
    "CampaignCount",
    "CampaignImage",
    "CampaignTranslation",
    "CampaignUpdateTranslation",
    "CampaignStatus",
    "CampaignUpdate",
    "EmbedOrigin",
    "Mailing",
    "MailingStatus",
    "MailingVersion",
    "Organisation",
    "OrganisationLogo",
    "OutboxMessage",
    "OutboxStatus",
    "RelatedCampaign",
    "Signature",
    "Starter",
    "StarterLinkRequest",
    "StarterState",
    "Token",
    "campaign_partners",
    "DeliveryStatus",
    "WebhookDelivery",
    "WebhookDetail",
    "WebhookEndpoint",
]

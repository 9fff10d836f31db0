"""A campaign's rules, on plain data: create, update, addresses (slugs), status changes, what "public" means.

Every way in (the admin's forms, "Start your campaign", the demo loader, the command line) is an adapter that
builds a `CampaignData` or calls `change_status`; none writes these rules again. Functions named for a finished
piece of work (`create`, `update`, `change_status`) commit; the helpers beside them (`move`, `apply`) only add and
flush, so a caller's larger unit of work (a moderator's approval) stays one transaction. Cached counters of the
campaigns touched are dropped after the commit by `counts` (an `after_commit` hook), never by hand here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from slugify import slugify
from sqlalchemy import select

from petition_app import audit, counts, webhooks
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, CampaignUpdate, Organisation, RelatedCampaign, SlugRedirect

# The words a campaign says: what a translation of it would carry.
CONTENT_FIELDS = (
    "title", "lead", "body", "quote", "quote_attribution", "petition_heading", "targets", "petition_text",
    "demands", "petition_closing", "delivery_note", "started_by",
)
# How it runs.
SETTING_FIELDS = ("goal", "goal_fixed", "offline_count", "count_confirmed_only", "deadline", "language",
                  "discreet_mail")
PLAIN_FIELDS = CONTENT_FIELDS + SETTING_FIELDS

# The only status changes there are; every path (admin, moderation, deadline) goes through `move`.
TRANSITIONS: dict[CampaignStatus, tuple[CampaignStatus, ...]] = {
    CampaignStatus.DRAFT: (CampaignStatus.OPEN,),
    CampaignStatus.OPEN: (CampaignStatus.CLOSED,),
    CampaignStatus.CLOSED: (CampaignStatus.OPEN, CampaignStatus.DELIVERED),
    CampaignStatus.DELIVERED: (),
}

SLUG_MAX = 120
SLUG_BASE_MAX = 80


@dataclass
class CampaignData:
    """Everything an editor sets on a campaign, as plain values (no form, no request)."""

    title: str
    organisation_id: int
    slug: str = ""  # empty: derived from the title
    lead: str = ""
    body: str = ""
    quote: str = ""
    quote_attribution: str = ""
    petition_heading: str = ""
    targets: str = ""
    petition_text: str = ""
    demands: str = ""
    petition_closing: str = ""
    delivery_note: str = ""
    started_by: str = ""
    goal: int = 1000
    goal_fixed: bool = False
    offline_count: int = 0
    count_confirmed_only: bool = True
    deadline: datetime | None = None
    language: str = "en"
    discreet_mail: bool = False
    partner_ids: list[int] = field(default_factory=list)
    related_ids: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignData:
        """The data of an existing campaign (partners and suggested campaigns in their order)."""
        return cls(
            slug=campaign.slug, organisation_id=campaign.organisation_id,
            partner_ids=[o.id for o in campaign.partners],
            related_ids=[link.related_id for link in campaign.related_links],
            **{name: getattr(campaign, name) for name in PLAIN_FIELDS},
        )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


# -- addresses --------------------------------------------------------------------------------------------------------


def slug_base(title: str) -> str:
    """A readable ASCII address part from a title in any script ("" when nothing of it transliterates)."""
    return slugify(title or "", max_length=SLUG_BASE_MAX, word_boundary=True, save_order=True)


def slug_taken(slug: str, campaign_id: int | None = None) -> bool:
    """True when another campaign uses the address, now or as a former address that still redirects."""
    owner = db.session.execute(select(Campaign.id).where(Campaign.slug == slug)).scalar_one_or_none()
    if owner is not None and owner != campaign_id:
        return True
    former = db.session.execute(
        select(SlugRedirect.campaign_id).where(SlugRedirect.old_slug == slug)).scalar_one_or_none()
    return former is not None and former != campaign_id


def unique_slug(title: str) -> str:
    """The title's slug, made unique with -2, -3 ...; "campaign-<random>" if the title has no usable letters."""
    base = slug_base(title) or f"campaign-{secrets.token_hex(4)}"
    candidate, n = base, 1
    while slug_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _set_slug(campaign: Campaign, new_slug: str) -> bool:
    """Move the campaign to a new address; the old one keeps redirecting, going back frees that redirect."""
    if campaign.slug is None or new_slug == campaign.slug:
        campaign.slug = new_slug
        return False
    back = db.session.get(SlugRedirect, new_slug)
    if back is not None:
        db.session.delete(back)
    db.session.add(SlugRedirect(old_slug=campaign.slug, campaign_id=campaign.id))
    campaign.slug = new_slug
    return True


# -- creating and editing ---------------------------------------------------------------------------------------------


def _set_related(campaign: Campaign, related_ids: list[int]) -> bool:
    """Make the campaign's links match the list, updating rows in place (their key is the pair of campaigns)."""
    before = [link.related_id for link in campaign.related_links]
    if before == related_ids:
        return False
    existing = {link.related_id: link for link in campaign.related_links}
    for related_id, link in existing.items():
        if related_id not in related_ids:
            campaign.related_links.remove(link)
    for position, related_id in enumerate(related_ids):
        link = existing.get(related_id)
        if link is None:
            campaign.related_links.append(RelatedCampaign(related_id=related_id, position=position))
        else:
            link.position = position
    return True


def apply(campaign: Campaign, data: CampaignData) -> list[str]:
    """Copy the data onto the campaign (not committed); returns the names of the fields that changed."""
    changed = []
    for name in PLAIN_FIELDS:
        value = getattr(data, name)
        if getattr(campaign, name) != value:
            setattr(campaign, name, value)
            changed.append(name)
    if _set_slug(campaign, data.slug or campaign.slug or unique_slug(data.title)):
        changed.append("slug")
    if campaign.organisation_id != data.organisation_id:
        campaign.organisation = db.session.get(Organisation, data.organisation_id)
        changed.append("organisation")
    if {o.id for o in campaign.partners} != set(data.partner_ids):
        campaign.partners = list(db.session.execute(
            select(Organisation).where(Organisation.id.in_(data.partner_ids))).scalars()) if data.partner_ids else []
        changed.append("partners")
    if _set_related(campaign, list(data.related_ids)):
        changed.append("related")
    return changed


def new_draft(data: CampaignData) -> Campaign:
    """A new draft campaign from the data, added to the session; an empty address is derived from the title."""
    campaign = Campaign(status=CampaignStatus.DRAFT, slug=data.slug or unique_slug(data.title),
                        organisation=db.session.get(Organisation, data.organisation_id))
    db.session.add(campaign)
    apply(campaign, data)
    return campaign


def add(data: CampaignData, *, actor: str | None = None) -> Campaign:
    """Add a new draft campaign, audited (flushed, not committed)."""
    campaign = new_draft(data)
    db.session.flush()
    audit.record("campaign created", campaign.slug, campaign.organisation_id, actor=actor)
    return campaign


def create(data: CampaignData, *, actor: str | None = None) -> Campaign:
    """Create a new draft campaign and commit it."""
    campaign = add(data, actor=actor)
    db.session.commit()
    return campaign


def update(campaign: Campaign, data: CampaignData, *, actor: str | None = None) -> list[str]:
    """Save the data over the campaign, audit what changed, commit, and repair the count if its rule changed."""
    old_slug, old_org, old_confirmed_only = campaign.slug, campaign.organisation_id, campaign.count_confirmed_only
    changed = apply(campaign, data)
    if not changed:
        return changed
    detail = "changed: " + ", ".join(changed)
    if "slug" in changed:
        detail += f"; address {old_slug} → {campaign.slug}"
    audit.record("campaign edited", campaign.slug, campaign.organisation_id, detail, actor=actor)
    if campaign.organisation_id != old_org:
        audit.record("campaign moved away", campaign.slug, old_org, detail, actor=actor)
    db.session.commit()
    if campaign.count_confirmed_only != old_confirmed_only:
        counts.recount(campaign)
    return changed


# -- dated updates ----------------------------------------------------------------------------------------------------


def _update_label(posted: CampaignUpdate) -> str:
    return f"{posted.published_on.isoformat()} {posted.title}".strip()


def add_update(campaign: Campaign, published_on: date, title: str, body: str) -> CampaignUpdate:
    """Publish a dated update of the organisation's own, audited, and commit."""
    posted = CampaignUpdate(campaign_id=campaign.id, published_on=published_on, title=title or "", body=body)
    db.session.add(posted)
    audit.record("update added", campaign.slug, campaign.organisation_id, _update_label(posted))
    db.session.commit()
    return posted


def edit_update(campaign: Campaign, posted: CampaignUpdate, published_on: date, title: str, body: str) -> None:
    """Change a dated update, audited, and commit."""
    posted.published_on, posted.title, posted.body = published_on, title or "", body
    audit.record("update edited", campaign.slug, campaign.organisation_id, _update_label(posted))
    db.session.commit()


def delete_update(campaign: Campaign, posted: CampaignUpdate) -> None:
    """Delete a dated update, audited, and commit."""
    audit.record("update deleted", campaign.slug, campaign.organisation_id, _update_label(posted))
    db.session.delete(posted)
    db.session.commit()


# -- status -----------------------------------------------------------------------------------------------------------


def parse_status(value: str | None) -> CampaignStatus | None:
    try:
        return CampaignStatus(value or "")
    except ValueError:
        return None


def can_change(campaign: Campaign, to: CampaignStatus | None) -> bool:
    return to is not None and to in TRANSITIONS[campaign.status]


class NotAllowed(ValueError):
    """The transition table has no such step from the campaign's status."""


def move(campaign: Campaign, to: CampaignStatus, *, closed_at: datetime | None = None, reason: str = "",
         actor: str | None = None) -> None:
    """Move the campaign one step of TRANSITIONS, audited, inside the caller's transaction (not committed).

    The row is locked first (PostgreSQL), so two concurrent changes cannot both pass the transition check.
    """
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    db.session.refresh(campaign)
    if not can_change(campaign, to):
        raise NotAllowed(f"{campaign.status} → {to} is not allowed")
    before = campaign.status
    campaign.status = to  # stamps closed_at (models.campaign)
    if closed_at is not None:
        campaign.closed_at = closed_at
    detail = f"{before.value} → {to.value}" + (f" ({reason})" if reason else "")
    audit.record("campaign status", campaign.slug, campaign.organisation_id, detail, actor=actor)
    webhooks.campaign_status_changed(campaign, before, to)  # queued in this transaction, sent by the worker


def change_status(campaign: Campaign, to: CampaignStatus, *, closed_at: datetime | None = None,
                  reason: str = "", actor: str | None = None) -> None:
    """Move the campaign along draft → open → closed → delivered (or closed → open), audited, and commit."""
    try:
        move(campaign, to, closed_at=closed_at, reason=reason, actor=actor)
    except NotAllowed:
        db.session.rollback()
        raise
    db.session.commit()

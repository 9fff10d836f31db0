"""The rules of "Start your campaign", callable without HTTP: propose, confirm, moderate, and the starter's dashboard.

A proposal is a draft campaign of the hosting organisation plus a Starter row holding the private contact address.
Nothing is public before a moderator approves it; the starter reaches their dashboard through a magic link only.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from petition_app import audit, counts, exports, mailer, tokens, webhooks
from petition_app.extensions import db
from petition_app.models import (
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Organisation,
    OutboxMessage,
    Signature,
    SlugRedirect,
    Starter,
    StarterLinkRequest,
    StarterState,
    Token,
)
from petition_app.privacy import email_hash
from petition_app.templating import public_url

CONFIRM = "starter-confirm"
DASHBOARD = "starter-dashboard"
CONFIRM_DAYS = 30
SLUG_BASE_MAX = 80


class NotAvailable(Exception):
    """There is no organisation to host proposals yet."""


class WrongState(Exception):
    """The proposal is not in a state that allows this step (someone else decided meanwhile)."""


@dataclass
class Proposal:
    public_name: str
    email: str
    title: str
    lead: str
    body: str
    targets: str
    demands: str
    goal: int
    language: str  # of the petition
    contact_language: str = "en"  # of the mails to the starter: the language they used the site in


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- hosting organisation and addresses ------------------------------------------------------------------------------


def host_organisation() -> Organisation | None:
    """The organisation that hosts proposals: STARTER_HOST_ORG if it exists, else the first one created."""
    slug = current_app.config.get("STARTER_HOST_ORG")
    if slug:
        found = db.session.execute(select(Organisation).where(Organisation.slug == slug)).scalar_one_or_none()
        if found is not None:
            return found
    return db.session.execute(select(Organisation).order_by(Organisation.id).limit(1)).scalar_one_or_none()


_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґў",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "iu", "ia", "i", "ie", "i", "g", "u"],
    strict=True,
))


def slug_base(title: str) -> str:
    """A readable ASCII address part from a title ("" when nothing of it transliterates)."""
    text = "".join(_CYRILLIC.get(char, char) for char in title.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(text) > SLUG_BASE_MAX:
        text = text[:SLUG_BASE_MAX].rsplit("-", 1)[0] or text[:SLUG_BASE_MAX]
    return text


def _slug_taken(slug: str) -> bool:
    return bool(
        db.session.execute(select(Campaign.id).where(Campaign.slug == slug)).first()
        or db.session.execute(select(SlugRedirect.old_slug).where(SlugRedirect.old_slug == slug)).first()
    )


def unique_slug(title: str) -> str:
    """The title's slug, made unique with -2, -3 ...; "campaign-<random>" if the title has no usable letters."""
    base = slug_base(title) or f"campaign-{secrets.token_hex(4)}"
    candidate, n = base, 1
    while _slug_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# -- proposing and confirming -----------------------------------------------------------------------------------------


def _delivery_note(name: str, language: str) -> str:
    with force_locale(language):
        return _("Signatures will be delivered by %(name)s. Only the first name, last name and country of signers "
                 "who agree will be shared with them.", name=name)


def propose(proposal: Proposal) -> Starter:
    """Store a proposal as a draft campaign with its starter, confirm token and confirmation mail, in one transaction."""
    host = host_organisation()
    if host is None:
        raise NotAvailable
    for attempt in range(3):
        slug = unique_slug(proposal.title)
        if attempt:  # someone took the same address at the same moment
            slug = f"{slug[:SLUG_BASE_MAX]}-{secrets.token_hex(3)}"
        campaign = Campaign(
            slug=slug, language=proposal.language, title=proposal.title, lead=proposal.lead, body=proposal.body,
            targets=proposal.targets, demands=proposal.demands, goal=proposal.goal, status=CampaignStatus.DRAFT,
            organisation_id=host.id, started_by=proposal.public_name,
            delivery_note=_delivery_note(proposal.public_name, proposal.language),
        )
        starter = Starter(campaign=campaign, public_name=proposal.public_name, email=proposal.email,
                          email_hash=email_hash(proposal.email), state=StarterState.UNCONFIRMED,
                          language=proposal.contact_language)
        try:
            db.session.add_all([campaign, starter])
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            continue
        raw = tokens.issue(CONFIRM, CONFIRM_DAYS, starter_id=starter.id)
        _mail(starter, "starter_confirm", confirm_url=public_url("starter.confirm", token=raw))
        db.session.commit()
        return starter
    raise RuntimeError("no free campaign address after three attempts")


def _mail(starter: Starter, kind: str, **context) -> None:
    """Queue a mail to the starter's private address in the current transaction."""
    campaign = starter.campaign
    mailer.enqueue(kind, starter.email, starter.language, kind, campaign_id=campaign.id, campaign=campaign,
                   public_name=starter.public_name, campaign_url=public_url("campaigns.show", slug=campaign.slug),
                   **context)


def starter_for(raw_token: str, purpose: str) -> Starter | None:
    """The starter a live token of this purpose belongs to, or None."""
    token = tokens.find(raw_token, purpose)
    if token is None or token.starter_id is None:
        return None
    return db.session.get(Starter, token.starter_id)


def confirm(starter: Starter) -> None:
    """Confirm the contact address: the proposal enters the moderation queue. Confirming again changes nothing."""
    db.session.execute(
        update(Starter).where(Starter.id == starter.id, Starter.state == StarterState.UNCONFIRMED)
        .values(state=StarterState.PENDING, confirmed_at=_now()).execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(starter)


def purge_unconfirmed(days: int | None = None, dry_run: bool = False) -> int:
    """Delete proposals whose address was never confirmed within the retention period; returns how many.

    Someone may have typed another person's address: it is not kept. Their draft campaign, links and any mail
    still in the outbox go with them.
    """
    days = current_app.config["UNCONFIRMED_RETENTION_DAYS"] if days is None else days
    cutoff = _now() - timedelta(days=days)
    stale = db.session.execute(
        select(Starter.id, Starter.campaign_id)
        .join(Campaign, Campaign.id == Starter.campaign_id)
        .where(Starter.state == StarterState.UNCONFIRMED, Starter.created_at < cutoff,
               Campaign.status == CampaignStatus.DRAFT)
    ).all()
    if dry_run or not stale:
        return len(stale)
    starter_ids = [starter_id for starter_id, _campaign_id in stale]
    campaign_ids = [campaign_id for _starter_id, campaign_id in stale]
    mailer.forget(OutboxMessage.campaign_id.in_(campaign_ids))
    db.session.execute(delete(Token).where(Token.starter_id.in_(starter_ids)).execution_options(synchronize_session=False))
    db.session.execute(delete(Starter).where(Starter.id.in_(starter_ids)).execution_options(synchronize_session=False))
    db.session.execute(delete(Campaign).where(Campaign.id.in_(campaign_ids)).execution_options(synchronize_session=False))
    db.session.commit()
    return len(stale)


# -- dashboard links ---------------------------------------------------------------------------------------------------


def _issue_dashboard_link(starter: Starter) -> str:
    raw = tokens.issue(DASHBOARD, current_app.config["STARTER_LINK_DAYS"], starter_id=starter.id)
    return public_url("starter.dashboard", token=raw)


def _delete_tokens(starter: Starter, purpose: str) -> int:
    return db.session.execute(
        delete(Token).where(Token.starter_id == starter.id, Token.purpose == purpose)
        .execution_options(synchronize_session=False)
    ).rowcount


def request_links(address: str) -> None:
    """Ask the worker to mail fresh dashboard links for the campaigns started with this address.

    Identical work for every address (one insert of its keyed hash): neither the answer nor its timing tells whether
    the address belongs to a starter. The lookup and the mail happen in the worker (answer_link_requests).
    """
    db.session.add(StarterLinkRequest(email_hash=email_hash(address)))
    db.session.commit()


def answer_link_requests(limit: int = 100) -> int:
    """Mail a fresh dashboard link for every published campaign started with a requested address; returns how many.

    Each request is taken by deleting it, so two workers never answer the same one; unknown addresses are dropped.
    """
    mailed = 0
    requests = db.session.execute(
        select(StarterLinkRequest.id, StarterLinkRequest.email_hash).order_by(StarterLinkRequest.id).limit(limit)
    ).all()
    db.session.rollback()
    for request_id, hashed in requests:
        taken = db.session.execute(
            delete(StarterLinkRequest).where(StarterLinkRequest.id == request_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken:
            starters = db.session.execute(
                select(Starter).where(Starter.email_hash == hashed, Starter.state == StarterState.APPROVED)
                .order_by(Starter.id)
            ).scalars().all()
            for starter in starters:  # to the stored address, never to what was typed
                _mail(starter, "starter_link", dashboard_url=_issue_dashboard_link(starter))
            mailed += len(starters)
        db.session.commit()
    return mailed


# -- moderation ------------------------------------------------------------------------------------------------------


def moderation_queue(organisation_ids: list[int] | None) -> list[Starter]:
    """Confirmed proposals waiting for a decision, oldest first (None: every organisation)."""
    query = (select(Starter).join(Campaign).where(Starter.state == StarterState.PENDING)
             .options(selectinload(Starter.campaign)).order_by(Starter.confirmed_at, Starter.id))
    if organisation_ids is not None:
        query = query.where(Campaign.organisation_id.in_(organisation_ids))
    return list(db.session.execute(query).scalars())


def recent_decisions(organisation_ids: list[int] | None, limit: int = 20) -> list[Starter]:
    query = (select(Starter).join(Campaign)
             .where(Starter.state.in_([StarterState.APPROVED, StarterState.REJECTED, StarterState.TAKEN_DOWN]))
             .options(selectinload(Starter.campaign)).order_by(Starter.decided_at.desc(), Starter.id.desc())
             .limit(limit))
    if organisation_ids is not None:
        query = query.where(Campaign.organisation_id.in_(organisation_ids))
    return list(db.session.execute(query).scalars())


def starters_with_pending_updates(organisation_ids: list[int] | None) -> list[tuple[Starter, int]]:
    """Published starters' campaigns with updates waiting for a moderator, and how many each."""
    query = (select(Starter, func.count(CampaignUpdate.id)).join(Campaign, Campaign.id == Starter.campaign_id)
             .join(CampaignUpdate, CampaignUpdate.campaign_id == Campaign.id)
             .where(CampaignUpdate.approved.is_(False)).group_by(Starter.id).order_by(Starter.id))
    if organisation_ids is not None:
        query = query.where(Campaign.organisation_id.in_(organisation_ids))
    return [(starter, n) for starter, n in db.session.execute(query).all()]


def _require(starter: Starter, *states: StarterState) -> None:
    if starter.state not in states:
        raise WrongState(starter.state)


def _decided(starter: Starter, state: StarterState, action: str, reason: str = "") -> None:
    starter.state = state
    starter.decided_at = _now()
    starter.reason = reason
    audit.record(action, starter.campaign.slug, starter.campaign.organisation_id,
                 detail=f"started by {starter.public_name}")


def approve(starter: Starter) -> None:
    """Publish the campaign and send the starter the private link to their dashboard."""
    _require(starter, StarterState.PENDING)
    campaign = starter.campaign
    if campaign.status == CampaignStatus.DRAFT:
        campaign.status = CampaignStatus.OPEN
        webhooks.campaign_status_changed(campaign, CampaignStatus.DRAFT, CampaignStatus.OPEN)
    _delete_tokens(starter, CONFIRM)
    _decided(starter, StarterState.APPROVED, "starter approved")
    _mail(starter, "starter_approved", dashboard_url=_issue_dashboard_link(starter))
    db.session.commit()
    counts.forget(campaign.slug)


def reject(starter: Starter, reason: str) -> None:
    """Turn a proposal down; the reason is mailed to the starter and nothing is published."""
    _require(starter, StarterState.PENDING)
    _delete_tokens(starter, CONFIRM)
    _decided(starter, StarterState.REJECTED, "starter rejected", reason)
    _mail(starter, "starter_rejected", reason=reason)
    db.session.commit()


def take_down(starter: Starter, reason: str) -> None:
    """Close a published campaign for good, end the starter's access and mail them the reason."""
    _require(starter, StarterState.APPROVED)
    campaign = starter.campaign
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.OPEN):
        before, campaign.status = campaign.status, CampaignStatus.CLOSED
        webhooks.campaign_status_changed(campaign, before, CampaignStatus.CLOSED)
    _delete_tokens(starter, DASHBOARD)
    _decided(starter, StarterState.TAKEN_DOWN, "starter taken down", reason)
    _mail(starter, "starter_taken_down", reason=reason)
    db.session.commit()
    counts.forget(campaign.slug)


def revoke_links(starter: Starter, send_new: bool) -> int:
    """Delete every dashboard link of the starter (a link was forwarded or leaked); optionally mail a new one."""
    if send_new:
        _require(starter, StarterState.APPROVED)
    revoked = _delete_tokens(starter, DASHBOARD)
    action = "starter links renewed" if send_new else "starter links revoked"
    audit.record(action, starter.campaign.slug, starter.campaign.organisation_id, detail=f"{revoked} revoked")
    if send_new:
        _mail(starter, "starter_link", dashboard_url=_issue_dashboard_link(starter))
    db.session.commit()
    return revoked


# -- updates by the starter --------------------------------------------------------------------------------------------


def post_update(starter: Starter, title: str, body: str) -> CampaignUpdate:
    """A dated update from the starter; hidden until a moderator approves it."""
    _require(starter, StarterState.APPROVED)
    posted = CampaignUpdate(campaign_id=starter.campaign_id, published_on=_now().date(), title=title or "",
                            body=body, approved=False)
    db.session.add(posted)
    db.session.commit()
    return posted


def campaign_updates(campaign: Campaign, approved: bool) -> list[CampaignUpdate]:
    return list(db.session.execute(
        select(CampaignUpdate).where(CampaignUpdate.campaign_id == campaign.id, CampaignUpdate.approved.is_(approved))
        .order_by(CampaignUpdate.published_on.desc(), CampaignUpdate.id.desc())
    ).scalars())


def approve_update(starter: Starter, posted: CampaignUpdate) -> None:
    posted.approved = True
    audit.record("starter update approved", starter.campaign.slug, starter.campaign.organisation_id)
    db.session.commit()
    counts.forget(starter.campaign.slug)


def delete_update(starter: Starter, posted: CampaignUpdate) -> None:
    audit.record("starter update deleted", starter.campaign.slug, starter.campaign.organisation_id)
    db.session.delete(posted)
    db.session.commit()


# -- what the dashboard shows -----------------------------------------------------------------------------------------


def names_are_sealed(campaign: Campaign) -> bool:
    """Sealed organisations store names only encrypted to a key the server lacks: no list can be made here."""
    return bool(campaign.organisation.public_key)


def country_counts(campaign: Campaign) -> list[tuple[str, int]]:
    """Signatures per country, most first (the admin's query)."""
    from petition_app.admin.stats import country_counts as counts_by_country

    return counts_by_country(campaign.id)


def delivery_count(campaign: Campaign) -> int:
    return db.session.execute(
        select(func.count()).select_from(Signature).where(*exports.starter_delivery_conditions(campaign))
    ).scalar_one()


def delivery_rows(campaign: Campaign) -> Iterator[tuple[str, str, str]]:
    """First name, last name and country code of each consenting signer, read a batch at a time."""
    query = (select(Signature.first_name, Signature.last_name, Signature.country)
             .where(*exports.starter_delivery_conditions(campaign))
             .order_by(Signature.country, Signature.last_name, Signature.first_name, Signature.id))
    for batch in exports.batches(query):
        yield from (tuple(row) for row in batch)


def delivery_csv(campaign: Campaign) -> Iterator[str]:
    """The starter's delivery list as CSV (first_name, last_name, country), a chunk per batch."""
    return exports.delivery_csv(campaign, conditions=exports.starter_delivery_conditions(campaign))


def forget_finished_starters(dry_run: bool = False) -> int:
    """Forget the contact address of starters who no longer need one; returns how many.

    Rejected or taken-down proposals keep it for UNCONFIRMED_RETENTION_DAYS after the decision (to answer a
    question about it); approved ones until their campaign's personal data is erased (CLOSED_RETENTION_MONTHS).
    """
    cfg = current_app.config
    now = _now()
    decided_before = now - timedelta(days=cfg["UNCONFIRMED_RETENTION_DAYS"])
    closed_before = now - timedelta(days=round(cfg["CLOSED_RETENTION_MONTHS"] * 30.44))
    finished = (
        (Starter.state.in_([StarterState.REJECTED, StarterState.TAKEN_DOWN]) & (Starter.decided_at < decided_before))
        | ((Starter.state == StarterState.APPROVED) & Starter.campaign_id.in_(
            select(Campaign.id).where(Campaign.closed_at.is_not(None), Campaign.closed_at < closed_before)))
    )
    ids = db.session.execute(select(Starter.id).where(finished, Starter.email != "")).scalars().all()
    if dry_run or not ids:
        return len(ids)
    db.session.execute(delete(Token).where(Token.starter_id.in_(ids)))
    db.session.execute(update(Starter).where(Starter.id.in_(ids)).values(email="", email_hash="")
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return len(ids)

"""The signing rules, callable without HTTP: sign, confirm, withdraw, unsubscribe, purge."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import formataddr, parseaddr

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from petition_app import counts, mailer, sealing, tokens
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, OutboxMessage, Signature, Token
from petition_app.privacy import coarse_now, email_hash
from petition_app.templating import public_url
from petition_app.validators import normalise_phone


class Outcome(enum.Enum):
    SIGNED = "signed"
    DUPLICATE = "duplicate"  # answered exactly like SIGNED: a page never reveals who has signed
    CLOSED = "closed"


@dataclass
class SignatureInput:
    first_name: str
    last_name: str
    email: str
    country: str
    phone: str | None = None
    consent_email: bool = False
    consent_sms: bool = False
    consent_share: bool = False
    language: str = "en"


def _links(signature: Signature, include_confirm: bool) -> dict[str, str]:
    cfg = current_app.config
    links = {
        "withdraw_url": public_url("signing.withdraw", token=tokens.issue(
            tokens.WITHDRAW, cfg["LINK_TOKEN_DAYS"], signature_id=signature.id)),
        "unsubscribe_url": public_url("signing.unsubscribe", token=tokens.issue(
            tokens.UNSUBSCRIBE, cfg["LINK_TOKEN_DAYS"], signature_id=signature.id)),
    }
    if include_confirm:
        links["confirm_url"] = public_url("signing.confirm", token=tokens.issue(
            tokens.CONFIRM, cfg["CONFIRM_TOKEN_DAYS"], signature_id=signature.id))
    return links


def _discreet_sender() -> str:
    _, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return formataddr((current_app.config["DISCREET_SENDER_NAME"], address))


def _enqueue_signature_mail(kind: str, campaign: Campaign, signature: Signature, address: str, first_name: str) -> None:
    links = _links(signature, include_confirm=signature.confirmed_at is None)
    mailer.enqueue(
        kind, address, signature.language, kind, list_unsubscribe=links["unsubscribe_url"],
        sender=_discreet_sender() if campaign.discreet_mail else None, discreet=campaign.discreet_mail,
        campaign_id=campaign.id, signature_id=signature.id, campaign=campaign, first_name=first_name,
        campaign_url=public_url("campaigns.show", slug=campaign.slug), **links,
    )
    signature.notified_at = datetime.now(timezone.utc)


def sign(campaign: Campaign, data: SignatureInput) -> Outcome:
    """Store a signature, count it and queue its confirmation mail in one transaction.

    A second signature with the same address changes nothing on the page; its owner is mailed instead.
    """
    if not campaign.is_open:
        return Outcome.CLOSED
    phone = normalise_phone(data.phone) if data.phone else None
    personal = {"first_name": data.first_name, "last_name": data.last_name, "email": data.email.strip(),
                "phone": phone}
    sealed = None
    public_key = campaign.organisation.public_key
    if public_key:  # only the organisation's private key, kept offline, can open these again
        sealed = sealing.seal(public_key, personal)
        personal = {"first_name": "", "last_name": "", "email": "", "phone": None}
    signature = Signature(
        campaign_id=campaign.id,
        **personal,
        sealed=sealed,
        email_hash=email_hash(data.email),
        country=data.country,
        consent_email=data.consent_email,
        consent_sms=bool(data.consent_sms and phone),
        consent_share=bool(data.consent_share and campaign.started_by),
        language=data.language,
        created_at=coarse_now(),
    )
    try:
        db.session.add(signature)
        db.session.flush()
        if not campaign.count_confirmed_only:
            counts.add(campaign.id, 1)
        _enqueue_signature_mail("confirm", campaign, signature, data.email.strip(), data.first_name)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _notify_already_signed(campaign, data)
        return Outcome.DUPLICATE
    return Outcome.SIGNED  # the cached counter catches up within COUNTER_CACHE_SECONDS: no stampede per signature


def _notify_already_signed(campaign: Campaign, data: SignatureInput) -> None:
    """Tell the address's owner (not the visitor) that it has signed already; at most one such mail a day."""
    existing = db.session.execute(
        select(Signature).where(Signature.campaign_id == campaign.id, Signature.email_hash == email_hash(data.email))
    ).scalar_one_or_none()
    if existing is None:
        return
    last = existing.notified_at
    if last is not None and (last if last.tzinfo else last.replace(tzinfo=timezone.utc)) > (
        datetime.now(timezone.utc) - timedelta(days=1)
    ):
        return
    _enqueue_signature_mail("already_signed", campaign, existing, data.email.strip(), data.first_name)
    db.session.commit()


def signature_for(raw_token: str, purpose: str) -> Signature | None:
    token = tokens.find(raw_token, purpose)
    return db.session.get(Signature, token.signature_id) if token and token.signature_id else None


def confirm(signature: Signature) -> None:
    """Confirm a signature; confirming again changes nothing."""
    result = db.session.execute(
        update(Signature).where(Signature.id == signature.id, Signature.confirmed_at.is_(None))
        .values(confirmed_at=coarse_now()).execution_options(synchronize_session=False)
    )
    campaign = db.session.get(Campaign, signature.campaign_id)
    if result.rowcount == 1 and campaign.count_confirmed_only:
        counts.add(campaign.id, 1)
    db.session.commit()
    db.session.refresh(signature)


def withdraw(signature: Signature) -> None:
    """Delete a signature and its personal data for good; the counter goes down if it counted."""
    campaign = db.session.get(Campaign, signature.campaign_id)
    counted = not campaign.count_confirmed_only or signature.confirmed_at is not None
    signature_id = signature.id
    mailer.forget(OutboxMessage.signature_id == signature_id)
    db.session.execute(delete(Token).where(Token.signature_id == signature_id))
    deleted = db.session.execute(delete(Signature).where(Signature.id == signature_id)).rowcount
    if deleted == 1 and counted:
        counts.add(campaign.id, -1)
    db.session.commit()
    if signature in db.session:
        db.session.expunge(signature)
    counts.forget(campaign.slug)


def unsubscribe(signature: Signature) -> None:
    signature.consent_email = False
    signature.consent_sms = False
    db.session.commit()


def purge_unconfirmed(days: int | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete signatures left unconfirmed for longer than the retention period; returns how many per campaign."""
    days = current_app.config["UNCONFIRMED_RETENTION_DAYS"] if days is None else days
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    stale = (Signature.confirmed_at.is_(None), Signature.created_at < cutoff)
    purged: dict[str, int] = {}
    for campaign in db.session.execute(select(Campaign).order_by(Campaign.id)).scalars().all():
        ids = db.session.execute(
            select(Signature.id).where(Signature.campaign_id == campaign.id, *stale)
        ).scalars().all()
        if not ids:
            continue
        if dry_run:
            purged[campaign.slug] = len(ids)
            continue
        mailer.forget(OutboxMessage.signature_id.in_(ids))
        db.session.execute(delete(Token).where(Token.signature_id.in_(ids)))
        deleted = db.session.execute(
            delete(Signature).where(Signature.id.in_(ids), *stale).execution_options(synchronize_session=False)
        ).rowcount
        if deleted and not campaign.count_confirmed_only:
            counts.add(campaign.id, -deleted)
        db.session.commit()
        counts.forget(campaign.slug)
        purged[campaign.slug] = deleted
    if not dry_run:
        tokens.delete_expired()
        db.session.commit()
    return purged


def erase_closed(months: int | None = None, dry_run: bool = False) -> dict[str, int]:
    """Erase the personal data of signatures on campaigns closed or delivered more than `months` ago.

    Counts, countries, consents and confirmation stay; names, email, phone, sealed data and the email hash go.
    """
    months = current_app.config["CLOSED_RETENTION_MONTHS"] if months is None else months
    cutoff = datetime.now(timezone.utc) - timedelta(days=round(months * 30.44))
    campaigns = db.session.execute(
        select(Campaign).where(Campaign.status.in_([CampaignStatus.CLOSED, CampaignStatus.DELIVERED]),
                               Campaign.closed_at.is_not(None), Campaign.closed_at < cutoff).order_by(Campaign.id)
    ).scalars().all()
    erased: dict[str, int] = {}
    for campaign in campaigns:
        still_personal = (Signature.campaign_id == campaign.id, Signature.email_hash.is_not(None))
        if dry_run:
            n = db.session.execute(select(func.count()).select_from(Signature).where(*still_personal)).scalar_one()
        else:
            ids = select(Signature.id).where(*still_personal).scalar_subquery()
            mailer.forget(OutboxMessage.signature_id.in_(ids))
            db.session.execute(delete(Token).where(Token.signature_id.in_(ids)))
            n = db.session.execute(
                update(Signature).where(*still_personal)
                .values(first_name="", last_name="", email="", phone=None, sealed=None, email_hash=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.commit()
        if n:
            erased[campaign.slug] = n
    return erased

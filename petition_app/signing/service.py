"""The signing rules, callable without HTTP."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from petition_app import counts
from petition_app.extensions import db
from petition_app.models import Campaign, Signature
from petition_app.privacy import coarse_now, email_hash
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


def sign(campaign: Campaign, data: SignatureInput) -> Outcome:
    """Store a signature and count it in one transaction; a second one for the same address changes nothing."""
    if not campaign.is_open:
        return Outcome.CLOSED
    phone = normalise_phone(data.phone) if data.phone else None
    signature = Signature(
        campaign_id=campaign.id,
        first_name=data.first_name,
        last_name=data.last_name,
        email=data.email.strip(),
        email_hash=email_hash(data.email),
        country=data.country,
        phone=phone,
        consent_email=data.consent_email,
        consent_sms=bool(data.consent_sms and phone),
        consent_share=bool(data.consent_share and campaign.started_by),
        language=data.language,
        created_at=coarse_now(),
    )
    try:
        db.session.add(signature)
        db.session.flush()
        counts.add(campaign.id, 1)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return Outcome.DUPLICATE
    counts.forget(campaign.slug)
    return Outcome.SIGNED

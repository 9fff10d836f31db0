"""Update mails to a campaign's signers who opted in: compose, preview, test, send in throttled batches.

- Who gets one: signatures of the campaign with email consent, confirmed, not erased and not sealed, as of the moment
  sending starts (`up_to_signature_id`). Unsubscribing (signing.service.unsubscribe clears the consent) takes effect
  up to the moment each mail is rendered.
- Progress is a cursor, not a recipient list: each pass of the worker takes the next few eligible signatures after
  `last_signature_id`, queues one outbox message each and moves the cursor, all in one transaction. A queued message
  holds no personal data: the address and first name are read from the signature when the mail is rendered, just
  before it is sent (the rendered mail is then kept encrypted until the server accepts it, then wiped). A crash before the commit queues nothing; after it, nothing twice.
  The move is a compare-and-set on the cursor, so two workers never queue the same batch.
- At most MAIL_RATE_PER_MINUTE messages are queued a minute, and no more while two batches still wait in the outbox:
  the queue stays short, so pausing or cancelling takes effect within a batch or two.
- The outbox worker (mailer) renders each message at send time: the signer's version (or the campaign language's),
  a fresh unsubscribe link, List-Unsubscribe and one-click List-Unsubscribe-Post headers, the discreet sender.
- Organisations that seal their signers' data cannot mail from the server (it cannot read the addresses): they
  export the opted-in list and mail from their own machine.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import bindparam, func, insert, select, update

from petition_app import audit, mailer, tokens
from petition_app.extensions import db
from petition_app.models import (
    Campaign,
    Mailing,
    MailingStatus,
    MailingVersion,
    OutboxMessage,
    OutboxStatus,
    Signature,
)
from petition_app.privacy import coarse_now
from petition_app.templating import public_url

KIND = "mailing"
TEST_KIND = "mailing_test"
SUBJECT_MAX = 200
BODY_MAX = 50_000

# Status changes an editor may make; the worker alone moves SENDING to DONE.
TRANSITIONS = {
    MailingStatus.DRAFT: {MailingStatus.SENDING, MailingStatus.CANCELLED},
    MailingStatus.SENDING: {MailingStatus.PAUSED, MailingStatus.CANCELLED},
    MailingStatus.PAUSED: {MailingStatus.SENDING, MailingStatus.CANCELLED},
    MailingStatus.DONE: set(),
    MailingStatus.CANCELLED: set(),
}


class MailingError(ValueError):
    """A mailing cannot be created, changed or sent as asked; the message says why (for the editor)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- who gets it ---------------------------------------------------------------------------------------------------

def is_sealed(campaign: Campaign) -> bool:
    """Whether the campaign's organisation seals signer data: the server cannot read the addresses to mail."""
    return bool(campaign.organisation.public_key)


def eligible(campaign_id: int) -> tuple:
    """The conditions for a signature to get the campaign's update mails."""
    return (Signature.campaign_id == campaign_id, Signature.consent_email.is_(True),
            Signature.confirmed_at.is_not(None), Signature.email_hash.is_not(None), Signature.sealed.is_(None))


def count_eligible(campaign: Campaign, up_to: int | None = None) -> int:
    query = select(func.count()).select_from(Signature).where(*eligible(campaign.id))
    if up_to is not None:
        query = query.where(Signature.id <= up_to)
    return db.session.execute(query).scalar_one()


def count_opted_in_sealed(campaign: Campaign) -> int:
    """Confirmed signatures with email consent whose data is sealed (for the offline path)."""
    return db.session.execute(
        select(func.count()).select_from(Signature).where(
            Signature.campaign_id == campaign.id, Signature.consent_email.is_(True),
            Signature.confirmed_at.is_not(None), Signature.sealed.is_not(None))
    ).scalar_one()


def languages(campaign: Campaign) -> list[str]:
    """The languages a mailing may be written in: the campaign's first, then the site's others."""
    return [campaign.language] + [lang for lang in current_app.config["LANGUAGES"] if lang != campaign.language]


# -- composing -----------------------------------------------------------------------------------------------------

def _versions_from(campaign: Campaign, texts: dict[str, tuple[str, str]]) -> list[MailingVersion]:
    """Validated versions from {language: (subject, body)}; the campaign's language is required."""
    allowed = languages(campaign)
    versions = []
    for language, (subject, body) in texts.items():
        subject, body = " ".join((subject or "").split()), (body or "").strip()
        if language not in allowed:
            raise MailingError(_l("Mailings are written in %(languages)s only.", languages=", ".join(allowed)))
        if not subject and not body:
            continue
        if not subject or not body:
            raise MailingError(_l("Each language needs both a subject and a text (or neither)."))
        if len(subject) > SUBJECT_MAX or len(body) > BODY_MAX:
            raise MailingError(_l("The subject or the text is too long."))
        versions.append(MailingVersion(language=language, subject=subject, body=body))
    if campaign.language not in {v.language for v in versions}:
        raise MailingError(_l("Write at least the version in the campaign's language."))
    return versions


def create(campaign: Campaign, texts: dict[str, tuple[str, str]], user=None) -> Mailing:
    """A new draft (the caller commits)."""
    mailing = Mailing(campaign_id=campaign.id, status=MailingStatus.DRAFT,
                      created_by_id=getattr(user, "id", None), versions=_versions_from(campaign, texts))
    db.session.add(mailing)
    db.session.flush()
    return mailing


def update_texts(mailing: Mailing, campaign: Campaign, texts: dict[str, tuple[str, str]]) -> None:
    """Replace a draft's versions (the caller commits)."""
    if mailing.status != MailingStatus.DRAFT:
        raise MailingError(_l("Only a draft can be changed."))
    versions = _versions_from(campaign, texts)
    mailing.versions.clear()
    db.session.flush()  # the old rows go before the new ones take their (mailing, language)
    mailing.versions.extend(versions)


def compose(campaign: Campaign, version: MailingVersion, first_name: str, unsubscribe_url: str,
            discreet: bool) -> tuple[str, str, str]:
    """Subject, text and HTML of one signer's mail, in the version's language."""
    return mailer.compose(
        "mailing", version.language, campaign=campaign, mail_subject=version.subject, body_text=version.body,
        first_name=first_name, unsubscribe_url=unsubscribe_url, discreet=discreet,
        campaign_url=public_url("campaigns.show", slug=campaign.slug),
    )


def preview(mailing: Mailing, campaign: Campaign, language: str) -> dict | None:
    """The mail as a signer in `language` gets it (subject, sender, text, html), with a sample name and link."""
    version = mailing.version_for(language, campaign.language)
    if version is None:
        return None
    subject, text, html = compose(campaign, version, _("Alex"), _sample_unsubscribe_url(), campaign.discreet_mail)
    return {"language": version.language, "subject": subject, "text": text, "html": html,
            "sender": _sender(campaign)}


def _sample_unsubscribe_url() -> str:
    return public_url("signing.unsubscribe", token="example")  # noqa: S106 (a sample link in previews, not a secret)


def _sender(campaign: Campaign) -> str:
    return mailer.discreet_sender() if campaign.discreet_mail else current_app.config["MAIL_DEFAULT_SENDER"]


def send_test(mailing: Mailing, campaign: Campaign, language: str, address: str) -> None:
    """Queue the mail in `language` to `address` (the editor's own), with a sample name and link (caller commits)."""
    version = mailing.version_for(language, campaign.language)
    if version is None:
        raise MailingError(_l("Write the mailing first."))
    mailer.enqueue(
        TEST_KIND, address, version.language, "mailing", sender=_sender(campaign), campaign_id=campaign.id,
        campaign=campaign, mail_subject=version.subject, body_text=version.body, first_name=_("Alex"),
        unsubscribe_url=_sample_unsubscribe_url(), discreet=campaign.discreet_mail,
        campaign_url=public_url("campaigns.show", slug=campaign.slug),
    )


# -- status --------------------------------------------------------------------------------------------------------

def change_status(mailing: Mailing, campaign: Campaign, to: MailingStatus) -> None:
    """Start, pause, resume or cancel (the caller commits)."""
    if to not in TRANSITIONS[mailing.status]:
        raise MailingError(_l("This mailing cannot be changed that way now."))
    if to == MailingStatus.SENDING and mailing.status == MailingStatus.DRAFT:
        _start(mailing, campaign)
        return
    mailing.status = to
    if to == MailingStatus.CANCELLED:
        mailing.finished_at = _now()
        # Messages still waiting in the outbox are dropped, their personal data wiped.
        mailer.forget(OutboxMessage.mailing_id == mailing.id)


def _start(mailing: Mailing, campaign: Campaign) -> None:
    if is_sealed(campaign):
        raise MailingError(_l("This organisation seals its signers' data: the server cannot read their addresses."))
    if mailing.version_for(campaign.language, campaign.language) is None:
        raise MailingError(_l("Write at least the version in the campaign's language."))
    up_to = db.session.execute(
        select(func.max(Signature.id)).where(Signature.campaign_id == campaign.id)).scalar() or 0
    mailing.up_to_signature_id = up_to
    mailing.last_signature_id = 0
    mailing.recipients = count_eligible(campaign, up_to)
    mailing.status = MailingStatus.SENDING
    mailing.started_at = _now()


# -- an editor's finished steps: each one audited and committed; a refusal (MailingError) rolls back ------------------

def _target(campaign: Campaign, mailing: Mailing) -> str:
    return f"{campaign.slug} mailing {mailing.id}"


def draft(campaign: Campaign, texts: dict[str, tuple[str, str]], user=None) -> Mailing:
    """Write a new draft, audited, and commit."""
    try:
        mailing = create(campaign, texts, user)
    except MailingError:
        db.session.rollback()
        raise
    audit.record("mailing drafted", _target(campaign, mailing), campaign.organisation_id)
    db.session.commit()
    return mailing


def edit_draft(mailing: Mailing, campaign: Campaign, texts: dict[str, tuple[str, str]]) -> None:
    """Replace a draft's texts, audited, and commit."""
    try:
        update_texts(mailing, campaign, texts)
    except MailingError:
        db.session.rollback()
        raise
    audit.record("mailing changed", _target(campaign, mailing), campaign.organisation_id)
    db.session.commit()


def queue_test(mailing: Mailing, campaign: Campaign, language: str, address: str) -> None:
    """Queue a test of the mail to the editor's own address, audited, and commit."""
    try:
        send_test(mailing, campaign, language, address)
    except MailingError:
        db.session.rollback()
        raise
    audit.record("mailing test sent", _target(campaign, mailing), campaign.organisation_id, f"language {language}")
    db.session.commit()


def set_status(mailing: Mailing, campaign: Campaign, to: MailingStatus) -> MailingStatus:
    """Start, pause, resume or cancel, audited, and commit; returns the status it had before."""
    before = mailing.status
    try:
        change_status(mailing, campaign, to)
    except MailingError:
        db.session.rollback()
        raise
    audit.record(f"mailing {before.value} → {to.value}", _target(campaign, mailing), campaign.organisation_id,
                 f"{mailing.recipients} recipients" if before == MailingStatus.DRAFT else "")
    db.session.commit()
    return before


# -- the worker's part ---------------------------------------------------------------------------------------------

def advance(now: datetime | None = None) -> int:
    """Queue the next batch of the oldest mailing being sent, within the rate; returns how many were queued."""
    cfg = current_app.config
    now = now or _now()
    mailing = db.session.execute(
        select(Mailing).where(Mailing.status == MailingStatus.SENDING).order_by(Mailing.id).limit(1)
    ).scalar_one_or_none()
    if mailing is None:
        db.session.rollback()
        return 0
    mailing_id, cursor, up_to = mailing.id, mailing.last_signature_id, mailing.up_to_signature_id
    campaign = db.session.get(Campaign, mailing.campaign_id)
    window_start = mailing.window_started_at
    window_count = mailing.window_count
    if window_start is None or now - window_start >= timedelta(minutes=1):
        window_start, window_count = now, 0
    batch = cfg["MAIL_BATCH_SIZE"]
    waiting = db.session.execute(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.mailing_id == mailing_id, OutboxMessage.status == OutboxStatus.QUEUED)
    ).scalar_one()
    room = min(cfg["MAIL_RATE_PER_MINUTE"] - window_count, batch, 2 * batch - waiting)
    if room <= 0:
        db.session.rollback()
        return 0
    rows = db.session.execute(
        select(Signature.id, Signature.language)
        .where(*eligible(campaign.id), Signature.id > cursor, Signature.id <= up_to)
        .order_by(Signature.id).limit(room)
    ).all()
    discreet, sender = bool(campaign.discreet_mail), _sender(campaign)
    to_render = mailer.seal_payload({})  # "render from the signature at send time"; None would mean "forgotten"
    db.session.rollback()  # end the reads before the writes, so SQLite takes its write lock cleanly
    finished = len(rows) < room
    values = {"last_signature_id": up_to if finished else rows[-1].id, "queued": Mailing.queued + len(rows),
              "window_started_at": window_start, "window_count": window_count + len(rows)}
    if finished:
        values.update(status=MailingStatus.DONE, finished_at=now)
    moved = db.session.execute(
        update(Mailing).where(Mailing.id == mailing_id, Mailing.last_signature_id == cursor,
                              Mailing.status == MailingStatus.SENDING)
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:  # another worker moved it, or an editor paused or cancelled it meanwhile
        db.session.rollback()
        return 0
    if rows:
        stamp = coarse_now()  # times stored with a signer's mail are as coarse as the signature's
        db.session.execute(insert(OutboxMessage.__table__), [{
            "kind": KIND, "language": row.language, "message_id": mailer.new_message_id(),
            "campaign_id": campaign.id, "signature_id": row.id, "mailing_id": mailing_id, "discreet": discreet,
            "sender": sender, "payload": to_render,
            "created_at": stamp, "next_attempt_at": stamp,
        } for row in rows])
    db.session.commit()
    return len(rows)


_NAME, _LINK = "\x00first-name\x00", "\x00unsubscribe-url\x00"  # slots: NUL never reaches a stored text
_RENDERED_MAX = 32

# What the worker reads for each message, in one query: the signer, the mailing's state and what of the campaign
# the rendered mail depends on. A mailing's versions cannot change once it is sent (only drafts are edited).
_RECIPIENT = (
    select(Signature.id, Signature.email, Signature.first_name, Signature.consent_email, Signature.confirmed_at,
           Signature.email_hash, Mailing.status, Campaign.language, Campaign.title, Campaign.slug)
    .select_from(Signature)
    .join(Mailing, Mailing.id == bindparam("mailing_id"))
    .join(Campaign, Campaign.id == Mailing.campaign_id)
    .where(Signature.id == bindparam("signature_id"))
)


def _rendered(mailing_id: int, language: str, discreet: bool, campaign_key: tuple) -> tuple[str, str, str] | None:
    """The mail in the version for `language`, with slots for the name and the link: rendered once per mailing,
    language and campaign title/address/language, not once per signer; None when no version can be sent."""
    key = (mailing_id, language, discreet, campaign_key)
    cache = current_app.extensions.setdefault("mailing_renders", {})
    if key not in cache:
        mailing = db.session.get(Mailing, mailing_id)
        campaign = db.session.get(Campaign, mailing.campaign_id)
        version = mailing.version_for(language, campaign.language)
        if version is None:
            return None
        if len(cache) >= _RENDERED_MAX:
            cache.clear()
        cache[key] = compose(campaign, version, _NAME, _LINK, discreet)
    return cache[key]


def render_queued(message: OutboxMessage, payload: dict) -> dict | None:
    """Render a queued mailing message at send time; None when it must not go (unsubscribed, withdrawn, erased,
    unconfirmed, cancelled)."""
    if message.signature_id is None or message.mailing_id is None:
        return None
    signer = db.session.execute(
        _RECIPIENT, {"mailing_id": message.mailing_id, "signature_id": message.signature_id}).first()
    if signer is None or signer.status == MailingStatus.CANCELLED:
        return None
    if not signer.consent_email or signer.confirmed_at is None or signer.email_hash is None:
        return None
    rendered = _rendered(message.mailing_id, message.language, message.discreet,
                         (signer.language, signer.title, signer.slug))
    if rendered is None:
        return None
    unsubscribe_url = public_url("signing.unsubscribe", token=tokens.issue(
        tokens.UNSUBSCRIBE, current_app.config["LINK_TOKEN_DAYS"], signature_id=signer.id))
    subject, text, html = rendered
    name = signer.first_name
    text = text.replace(_NAME, name).replace(_LINK, unsubscribe_url)
    html = html.replace(_NAME, str(escape(name))).replace(_LINK, str(escape(unsubscribe_url)))
    return {"to": signer.email, "subject": subject, "text": text, "html": html,
            "headers": mailer.unsubscribe_headers(unsubscribe_url)}


# -- progress ------------------------------------------------------------------------------------------------------

def progress(mailing: Mailing) -> dict[str, int]:
    """Recipients, and the mailing's messages by state: not queued yet, waiting in the outbox, sent, failed, dropped."""
    found = dict(db.session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.mailing_id == mailing.id)
        .group_by(OutboxMessage.status)
    ).all())
    counts = {status.value: found.get(status, found.get(status.value, 0)) for status in OutboxStatus}
    active = mailing.status in (MailingStatus.SENDING, MailingStatus.PAUSED)
    return {"recipients": mailing.recipients,
            "to_queue": max(mailing.recipients - mailing.queued, 0) if active else 0,
            "waiting": counts["queued"], "sent": counts["sent"], "failed": counts["failed"],
            "dropped": counts["cancelled"]}


def campaign_mailings(campaign: Campaign) -> list[Mailing]:
    return list(db.session.execute(
        select(Mailing).where(Mailing.campaign_id == campaign.id).order_by(Mailing.id.desc())).scalars())


mailer.RENDERERS["mailing"] = render_queued

"""The signing rules, callable without HTTP: sign, confirm, withdraw, unsubscribe, purge."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import Boolean, Date, Integer, bindparam, delete, func, select, text, update

from petition_app import counts, mailer, pagecache, sealing, tokens, webhooks, write_lock
from petition_app.db_setup import checkpoint_wal
from petition_app.extensions import db, run
from petition_app.models import Campaign, CampaignStatus, Organisation, OutboxMessage, Signature, Token
from petition_app.models.campaign import accepts_signatures
from petition_app.privacy import coarse_now, email_hash
from petition_app.validators import normalise_phone

# Limits on mails to an address that signs again (see _may_mail).
REPEAT_MAILS_PER_DAY = 3
REPEAT_QUIET_SECONDS = 600


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


@dataclass(frozen=True)
class SigningTarget:
    """What signing reads of a campaign: a few columns, not the campaign with its texts and relations."""

    id: int
    slug: str
    status: CampaignStatus
    deadline: datetime | None
    count_confirmed_only: bool
    discreet_mail: bool
    started_by: str
    public_key: str | None  # the organisation's sealing key, read and dropped with the campaign's columns

    @property
    def is_open(self) -> bool:
        return accepts_signatures(self.status, self.deadline)

    @classmethod
    def of(cls, campaign: Campaign) -> SigningTarget:
        return cls(campaign.id, campaign.slug, campaign.status, campaign.deadline, campaign.count_confirmed_only,
                   campaign.discreet_mail, campaign.started_by, campaign.organisation.public_key)

    def plain(self) -> list:
        return [self.id, self.slug, self.status.value, self.deadline.isoformat() if self.deadline else None,
                self.count_confirmed_only, self.discreet_mail, self.started_by, self.public_key]

    @classmethod
    def from_plain(cls, values: list) -> SigningTarget:
        id_, slug, status, deadline, *rest = values
        return cls(id_, slug, CampaignStatus(status), datetime.fromisoformat(deadline) if deadline else None, *rest)


_TARGET: list = []


def signing_target(slug: str) -> SigningTarget | None:
    """The public campaign at this address as signing needs it: a few columns, kept with the public pages.

    Any committed change of a campaign, its organisation (the sealing key) or its starter drops the public pages and
    this with them, in every process, before the next request reads it (pagecache.cached_value): a campaign closed
    or a sealing key set a moment ago applies to the next signature. The deadline is compared when signing.
    """
    found = pagecache.cached_value(f"signing-target:{slug}", lambda: _read_target(slug))
    return SigningTarget.from_plain(found) if found else None


def _read_target(slug: str) -> list:
    if not _TARGET:
        _TARGET.append(
            select(Campaign.id, Campaign.slug, Campaign.status, Campaign.deadline, Campaign.count_confirmed_only,
                   Campaign.discreet_mail, Campaign.started_by, Organisation.public_key)
            .join(Organisation, Organisation.id == Campaign.organisation_id)
            .where(Campaign.slug == bindparam("slug"), Campaign.is_public))
    row = run(_TARGET[0], {"slug": slug}).first()
    return SigningTarget(*row).plain() if row is not None else []


def sign(campaign: Campaign | SigningTarget, data: SignatureInput) -> Outcome:
    """Store a signature (or find the one this address made), count it and queue one mail, in one transaction.

    A new and a repeated signature run the same statements (the row's INSERT ... ON CONFLICT DO NOTHING, the count
    that adds nothing for a repeat, the read of the row, its update, the mail's INSERT that inserts nothing when a
    limit refuses it) and get the same answer: neither the page, nor the count, nor the time taken may tell a
    visitor whether the address had signed. The address's owner gets the mail that fits: the confirmation (with a
    fresh link) while unconfirmed, else "you have already signed". `campaign` is the campaign or its SigningTarget.
    """
    if isinstance(campaign, Campaign):
        campaign = SigningTarget.of(campaign)
    if not campaign.is_open:
        return Outcome.CLOSED
    address = data.email.strip()
    phone = normalise_phone(data.phone) if data.phone else None
    personal = {"first_name": data.first_name, "last_name": data.last_name, "email": address, "phone": phone}
    sealed = None
    public_key = campaign.public_key
    if public_key:  # only the organisation's private key, kept offline, can open these again
        sealed = sealing.seal(public_key, personal)
        personal = {"first_name": "", "last_name": "", "email": "", "phone": None}
    hashed = email_hash(data.email)
    values = {
        "campaign_id": campaign.id,
        **personal,
        "sealed": sealed,
        "email_hash": hashed,
        "country": data.country,
        "consent_email": data.consent_email,
        "consent_sms": bool(data.consent_sms and phone),
        "consent_share": bool(data.consent_share and campaign.started_by),
        "language": data.language,
        "created_at": coarse_now(),
        "repeat_mails": 0,
    }
    payload = mailer.seal_payload({"to": address, "first_name": data.first_name})  # outside the write lock
    with write_lock.serialised():  # everything from here to the commit is the write transaction
        inserted, signature = _store(values, count=not campaign.count_confirmed_only)
        if signature is not None:
            allowed = _may_mail(campaign, signature, repeat=not inserted)
            kind = "confirm" if signature.confirmed_at is None else "already_signed"
            # A limited repeat runs the mail's INSERT too (inserting nothing), so that it costs what a mail costs.
            mailer.enqueue_signature_mail(kind, campaign, signature, address, data.first_name, send=allowed,
                                          payload=payload)
        db.session.commit()
    # The cached counter catches up within COUNTER_CACHE_SECONDS: no cache stampede per signature.
    return Outcome.SIGNED if inserted else Outcome.DUPLICATE


def _store(values: dict, count: bool):
    """Insert the signature unless its address has signed, count it if new and `count`, and read its row's state.

    (inserted, state row); the state row is None only when another request with the same address stored it at the
    same moment (PostgreSQL). On PostgreSQL one statement (a round trip, not three); elsewhere three, under the
    write lock.
    """
    if db.session.connection().dialect.name == "postgresql":
        row = run(_combined_statement(), {**values, "count": count, "shard": counts.random_shard()}).first()
        return (row is not None and row.inserted), row
    inserted = _insert_unless_signed(values)
    counts.add_one_if(values["campaign_id"], inserted and count)
    return inserted, run(_state_statement(), {k: values[k] for k in ("campaign_id", "email_hash")}).first()


_INSERT_COLUMNS = ("campaign_id", "first_name", "last_name", "email", "phone", "sealed", "email_hash", "country",
                   "consent_email", "consent_sms", "consent_share", "language", "created_at", "repeat_mails")
_INSERT: list = []


def _insert_statement():
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, the same SQL on SQLite and PostgreSQL, built once.

    A text statement with typed parameters rather than the dialects' insert().on_conflict_do_nothing(): those
    have no cache key, so SQLAlchemy would compile them again for every signature.
    """
    if not _INSERT:
        table = Signature.__table__
        _INSERT.append(text(
            f"INSERT INTO signatures ({', '.join(_INSERT_COLUMNS)}) "  # noqa: S608 (constant column names)
            f"VALUES ({', '.join(':' + name for name in _INSERT_COLUMNS)}) "
            "ON CONFLICT (campaign_id, email_hash) DO NOTHING RETURNING id"
        ).bindparams(*(bindparam(name, type_=table.c[name].type) for name in _INSERT_COLUMNS)))
    return _INSERT[0]


def _insert_unless_signed(values: dict) -> bool:
    """Insert a signature unless its address has signed the campaign; True when inserted.

    INSERT ... ON CONFLICT DO NOTHING, not a caught unique violation: the database logs every violation with
    the key's values (campaign and email hash) and a precise time.
    """
    return run(_insert_statement(), values).scalar_one_or_none() is not None


_STATE_COLUMNS = ("id", "language", "email_hash", "confirmed_at", "repeat_day", "repeat_mails", "notified_at")
_COMBINED: list = []


def _combined_statement():
    """PostgreSQL: the signature's INSERT ... ON CONFLICT DO NOTHING, its count and its state, in one statement.

    The count's INSERT takes the new row from the first (so it adds nothing for a repeat); the final SELECT returns
    the new row, or else the one already stored. A repeat and a new signature run the same statement.
    """
    if not _COMBINED:
        table = Signature.__table__
        state = ", ".join(_STATE_COLUMNS)
        _COMBINED.append(text(
            f"WITH added AS (INSERT INTO signatures ({', '.join(_INSERT_COLUMNS)}) "  # noqa: S608 (constant text)
            f"VALUES ({', '.join(':' + name for name in _INSERT_COLUMNS)}) "
            f"ON CONFLICT (campaign_id, email_hash) DO NOTHING RETURNING {state}), "
            "counted AS (INSERT INTO campaign_counts (campaign_id, shard, n) "
            f"SELECT :campaign_id, :shard, 1 FROM added WHERE :count {counts.ADD_TO_SHARD}) "
            f"SELECT true AS inserted, {state} FROM added "
            f"UNION ALL SELECT false, {state} FROM signatures "
            "WHERE campaign_id = :campaign_id AND email_hash = :email_hash AND NOT EXISTS (SELECT 1 FROM added)"
        ).bindparams(*(bindparam(name, type_=table.c[name].type) for name in _INSERT_COLUMNS),
                     bindparam("count", type_=Boolean()), bindparam("shard", type_=Integer()))
         .columns(inserted=Boolean(), **{name: table.c[name].type for name in _STATE_COLUMNS}))
    return _COMBINED[0]


_STATE: list = []


def _state_statement():
    """The columns of a signature that signing reads (a Core select built once: no ORM object per signature)."""
    if not _STATE:
        table = Signature.__table__
        _STATE.append(
            select(*(table.c[name] for name in _STATE_COLUMNS))
            .where(table.c.campaign_id == bindparam("campaign_id"), table.c.email_hash == bindparam("email_hash")))
    return _STATE[0]


def _repeat_key(campaign_id: int, hashed: str) -> str:
    """A cache key that names neither the campaign nor what it is for."""
    return "q:" + hashlib.sha256(f"{campaign_id}:{hashed}".encode()).hexdigest()[:32]


def _may_mail(campaign: SigningTarget, signature, repeat: bool) -> bool:
    """Whether this signing attempt may mail the address; every attempt runs the same reads and writes.

    A new signature always gets its confirmation, and so does the first repeat of a day (the usual reason to sign
    again is a confirmation that went to spam). After that, at most REPEAT_MAILS_PER_DAY repeat mails a day, each
    after REPEAT_QUIET_SECONDS without an attempt with this address. The day's count sits on the signature row
    (a date, nothing finer); the quiet period is a cache entry that expires by itself.
    """
    today = datetime.now(timezone.utc).date()
    sent_today = signature.repeat_mails if signature.repeat_day == today else 0
    cache = current_app.extensions["petition_cache"]
    key = _repeat_key(campaign.id, signature.email_hash)
    quiet = cache.get(key) is None
    allowed = not repeat or sent_today == 0 or (sent_today < REPEAT_MAILS_PER_DAY and quiet)
    day, mails = (today, sent_today + 1) if repeat and allowed else (signature.repeat_day, signature.repeat_mails)
    # IS NOT DISTINCT FROM (SQLite: IS): one statement whether the stored day is set or not
    same_state = Signature.__table__.c.repeat_day.is_not_distinct_from(
        bindparam(None, signature.repeat_day, type_=Date()))  # a parameter even when None, not IS NULL
    # Compare-and-set: of two attempts at the same moment only one counts, so the limit holds under concurrency.
    table = Signature.__table__  # a Core UPDATE: no ORM bookkeeping in every signing request
    # notified_at (when the address was last mailed) moves in the same statement when the mail is allowed.
    notified = coarse_now() if allowed else signature.notified_at
    claimed = run(
        update(table).where(table.c.id == signature.id, table.c.repeat_mails == signature.repeat_mails, same_state)
        .values(repeat_day=day, repeat_mails=mails, notified_at=notified)
    ).rowcount == 1
    cache.set(key, 1, REPEAT_QUIET_SECONDS)
    return allowed and claimed


def signature_for(raw_token: str, purpose: str) -> Signature | None:
    """The signature a live link token of this purpose belongs to (one query: every link click runs it)."""
    conditions = tokens.live(raw_token, purpose)
    if conditions is None:
        return None
    return db.session.execute(
        select(Signature).join(Token, Token.signature_id == Signature.id).where(*conditions)
    ).scalar_one_or_none()


def confirm(signature: Signature) -> None:
    """Confirm a signature; confirming again changes nothing."""
    table = Signature.__table__  # Core statements: no ORM bookkeeping in every confirmation
    campaign_id = signature.campaign_id
    with write_lock.serialised():
        result = run(
            update(table).where(table.c.id == signature.id, table.c.confirmed_at.is_(None))
            .values(confirmed_at=coarse_now())
        )
        if result.rowcount == 1:
            counts.add_confirmation(campaign_id)  # moves the count if the campaign counts confirmed ones only
            webhooks.signature_confirmed(signature.id)
        db.session.commit()  # expires `signature`: read again only if the caller reads it


def withdraw(signature: Signature) -> None:
    """Delete a signature and its personal data for good; the counter goes down if it counted."""
    campaign = db.session.get(Campaign, signature.campaign_id)
    counted = not campaign.count_confirmed_only or signature.confirmed_at is not None
    signature_id = signature.id
    mailer.forget(OutboxMessage.signature_id == signature_id)
    webhooks.forget_signatures([signature_id])
    db.session.execute(delete(Token).where(Token.signature_id == signature_id))
    deleted = db.session.execute(delete(Signature).where(Signature.id == signature_id)).rowcount
    if deleted == 1 and counted:
        counts.add(campaign.id, -1)
    counts.forget_after_commit(campaign.slug)
    confirmed = deleted == 1 and signature.confirmed_at is not None
    webhooks.signature_withdrawn(campaign.id, signature_id, was_confirmed=confirmed)
    db.session.commit()
    checkpoint_wal()
    if signature in db.session:
        db.session.expunge(signature)


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
        counts.forget_after_commit(campaign.slug)
        db.session.commit()
        purged[campaign.slug] = deleted
    if not dry_run:
        tokens.delete_expired()
        db.session.commit()
        checkpoint_wal()
    return purged


def erase_closed(months: int | None = None, dry_run: bool = False) -> dict[str, int]:
    """Erase the personal data of signatures on campaigns closed or delivered more than `months` ago.

    Counts, countries, consents and confirmation stay; names, email, phone, sealed data, the email hash and the
    date of repeat mails go.
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
            webhooks.forget_signatures(ids)
            db.session.execute(delete(Token).where(Token.signature_id.in_(ids)))
            n = db.session.execute(
                update(Signature).where(*still_personal)
                .values(first_name="", last_name="", email="", phone=None, sealed=None, email_hash=None,
                        repeat_day=None, repeat_mails=0)
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.commit()
        if n:
            erased[campaign.slug] = n
    if not dry_run:
        checkpoint_wal()
    return erased

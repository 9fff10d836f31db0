"""The signing rules, callable without HTTP: sign, confirm, withdraw, unsubscribe, purge."""

from __future__ import annotations

import enum
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import Boolean, Date, Integer, bindparam, delete, func, select, text, update

from petition_app import counts, mailer, pagecache, sealing, timefloor, tokens, webhooks, write_lock
from petition_app.db_setup import checkpoint_wal
from petition_app.extensions import db, run, run_alone
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

    A new and a repeated signature run the same statements (on PostgreSQL one, _one_statement; on SQLite the row's
    INSERT ... ON CONFLICT DO NOTHING, the count that adds nothing for a repeat, the read of the row, its update,
    the mail's INSERT that inserts nothing when a limit refuses it) and get the same answer: neither the page, nor
    the count, nor the time taken may tell a visitor whether the address had signed (the database does not do the
    same work for them, so the time is evened out: petition_app/timefloor.py). The address's owner gets the mail
    that fits: the confirmation (with a fresh link) while unconfirmed, else "you have already signed".
    `campaign` is the campaign or its SigningTarget.
    """
    if isinstance(campaign, Campaign):
        campaign = SigningTarget.of(campaign)
    if not campaign.is_open:
        return Outcome.CLOSED
    started = time.perf_counter()
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
    # Everything that is not a statement is done before the write: the mail's sealed data and fields, and the
    # repeat limit's quiet period (a cache entry, renewed by every attempt with this address).
    mail = mailer.signer_mail_values(campaign, mailer.seal_payload({"to": address, "first_name": data.first_name}))
    count = not campaign.count_confirmed_only
    cache = current_app.extensions["petition_cache"]
    quiet_key = _repeat_key(campaign.id, hashed)
    quiet = cache.get(quiet_key) is None
    if db.engine.dialect.name == "postgresql":
        _commit_callers_work()
        inserted = _sign_in_one_statement(values, count, mail, quiet)
    else:
        today = datetime.now(timezone.utc).date()
        with write_lock.serialised():  # everything from here to the commit is the write transaction
            inserted, signature = _store(values, count=count)
            allowed = _may_mail(signature, repeat=not inserted, quiet=quiet, today=today)
            # A limited repeat runs the mail's INSERT too (inserting nothing), so that it costs what a mail costs.
            mailer.enqueue_signature_mail(signature, mail, send=allowed)
            db.session.commit()
    # Held until it has taken as long as nearly every recent signature, new or not (outside SQLite's write lock).
    timefloor.hold("sign", started)
    cache.set(quiet_key, 1, REPEAT_QUIET_SECONDS)
    # The cached counter catches up within COUNTER_CACHE_SECONDS: no cache stampede per signature.
    return Outcome.SIGNED if inserted else Outcome.DUPLICATE


def _store(values: dict, count: bool):
    """Insert the signature unless its address has signed, count it if new and `count`, and read its row's state
    (inserted, state row): three statements under SQLite's write lock."""
    inserted = _insert_unless_signed(values)
    counts.add_one_if(values["campaign_id"], inserted and count)
    return inserted, run(_state_statement(), {k: values[k] for k in ("campaign_id", "email_hash")}).first()


def _commit_callers_work() -> None:
    """Before a statement that runs on its own (PostgreSQL): commit the caller's unit of work so far, as the
    signature's transaction does elsewhere (and so expire what the session loaded: read again afterwards, it
    shows the signature), and give its connection back before the statement takes one. Nothing to do, and no
    cost, when the session holds nothing (a sign POST whose campaign was read from the cache)."""
    session = db.session()
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        session.commit()


def _sign_in_one_statement(values: dict, count: bool, mail: dict, quiet: bool) -> bool:
    """PostgreSQL: the whole signature as one statement in a transaction of its own (see _one_statement); whether
    it added a row. One round trip: no BEGIN and COMMIT around it, nothing held between statements."""
    row = run_alone(_one_statement(), {
        **values, **mail, "notified_at": values["created_at"], "count": count, "shard": counts.random_shard(),
        "today": datetime.now(timezone.utc).date(), "per_day": REPEAT_MAILS_PER_DAY, "quiet": quiet,
    })[0]
    return row.inserted


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
_ONE: list = []


def _one_statement():
    """PostgreSQL: a signature in one statement, whether its address had signed or not (the same statement).

    `added` inserts the row unless the address has signed (its notified_at set: its confirmation is mailed);
    `counted` adds the new row to a random shard of the count when the campaign counts every signature;
    `repeated` is the repeat limit of _may_mail for an address that had signed: its row takes this attempt and is
    mailed when none was mailed today, or fewer than per_day and none in the quiet period (:quiet, from the cache);
    two attempts at the same moment cannot both pass, as an UPDATE checks its condition again on the row it waited
    for; `mailed` queues the mail of whichever row came out of the two. All parts see the same snapshot: a row
    another signer inserted with the same address at the same moment is neither added nor repeated (no mail).
    """
    if not _ONE:
        table = Signature.__table__
        signer = "id, language, confirmed_at"
        columns = (*_INSERT_COLUMNS, "notified_at")
        mailed = mailer.signer_mails_from(
            f"SELECT {signer} FROM added UNION ALL SELECT {signer} FROM repeated")  # noqa: S608 (constant text)
        _ONE.append(text(
            f"WITH added AS (INSERT INTO signatures ({', '.join(columns)}) "  # noqa: S608 (constant text)
            f"VALUES ({', '.join(':' + name for name in columns)}) "
            f"ON CONFLICT (campaign_id, email_hash) DO NOTHING RETURNING {signer}), "
            "counted AS (INSERT INTO campaign_counts (campaign_id, shard, n) "
            f"SELECT :campaign_id, :shard, 1 FROM added WHERE :count {counts.ADD_TO_SHARD}), "
            "repeated AS (UPDATE signatures SET repeat_day = :today, "
            "repeat_mails = CASE WHEN repeat_day = :today THEN repeat_mails + 1 ELSE 1 END, notified_at = :notified_at "
            "WHERE campaign_id = :campaign_id AND email_hash = :email_hash AND NOT EXISTS (SELECT 1 FROM added) "
            "AND (repeat_day IS DISTINCT FROM :today OR repeat_mails = 0 OR (repeat_mails < :per_day AND :quiet)) "
            f"RETURNING {signer}), "
            f"mailed AS ({mailed}) "
            "SELECT EXISTS (SELECT 1 FROM added) AS inserted"
        ).bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns),
                     bindparam("count", type_=Boolean()), bindparam("shard", type_=Integer()),
                     bindparam("today", type_=Date()), bindparam("per_day", type_=Integer()),
                     bindparam("quiet", type_=Boolean()), *mailer.signer_mail_parameters())
         .columns(inserted=Boolean()))
    return _ONE[0]


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


def _may_mail(signature, repeat: bool, quiet: bool, today) -> bool:
    """Whether this signing attempt may mail the address; every attempt runs the same statement.

    A new signature always gets its confirmation, and so does the first repeat of a day (the usual reason to sign
    again is a confirmation that went to spam). After that, at most REPEAT_MAILS_PER_DAY repeat mails a day, each
    after REPEAT_QUIET_SECONDS without an attempt with this address (`quiet`: the caller's cache entry, which
    expires by itself). The day's count sits on the signature row (a date, nothing finer).
    """
    sent_today = signature.repeat_mails if signature.repeat_day == today else 0
    allowed = not repeat or sent_today == 0 or (sent_today < REPEAT_MAILS_PER_DAY and quiet)
    day, mails = (today, sent_today + 1) if repeat and allowed else (signature.repeat_day, signature.repeat_mails)
    # notified_at (when the address was last mailed) moves in the same statement when the mail is allowed.
    notified = coarse_now() if allowed else signature.notified_at
    claimed = run(_claim_statement(), {
        "row": signature.id, "old_mails": signature.repeat_mails, "old_day": signature.repeat_day,
        "day": day, "mails": mails, "notified": notified,
    }).rowcount == 1
    return allowed and claimed


_CLAIM: list = []


def _claim_statement():
    """The repeat limit's compare-and-set (a Core UPDATE built once): of two attempts at the same moment only one
    counts, so the limit holds under concurrency. IS NOT DISTINCT FROM a parameter (SQLite: IS), not IS NULL or =
    by the stored day: one statement whether the day is set or not."""
    if not _CLAIM:
        table = Signature.__table__
        _CLAIM.append(
            update(table).where(table.c.id == bindparam("row"), table.c.repeat_mails == bindparam("old_mails"),
                                table.c.repeat_day.is_not_distinct_from(bindparam("old_day", type_=Date())))
            .values(repeat_day=bindparam("day"), repeat_mails=bindparam("mails"),
                    notified_at=bindparam("notified")))
    return _CLAIM[0]


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
    _confirm(signature.id, signature.campaign_id)


def _confirm(signature_id: int, campaign_id: int) -> None:
    with write_lock.serialised():
        if run(_confirm_statement(), {"row": signature_id, "confirmed_at": coarse_now()}).rowcount == 1:
            counts.add_confirmation(campaign_id)  # moves the count if the campaign counts confirmed ones only
            webhooks.signature_confirmed(signature_id)
        db.session.commit()  # expires the session's objects: a signature is read again only if the caller reads it


_CONFIRM: list = []


def _confirm_statement():
    """UPDATE ... SET confirmed_at WHERE id AND confirmed_at IS NULL (a Core statement built once)."""
    if not _CONFIRM:
        table = Signature.__table__
        _CONFIRM.append(update(table).where(table.c.id == bindparam("row"), table.c.confirmed_at.is_(None))
                        .values(confirmed_at=bindparam("confirmed_at")))
    return _CONFIRM[0]


@dataclass(frozen=True)
class LinkSigner:
    """What the answer to a confirmation needs of the signature its link stands for (no personal data)."""

    id: int
    campaign_id: int
    language: str


def confirm_link(raw_token: str) -> LinkSigner | None:
    """Confirm the signature a live confirmation link stands for (confirming again changes nothing); None for a
    dead link (unknown, expired, another purpose, malformed).

    On PostgreSQL one statement in a transaction of its own (_confirm_link_statement), unless the campaign's
    organisation has a webhook endpoint: then the statement changes nothing and the steps of confirm() run, which
    queue the event in the confirmation's transaction. Elsewhere a read of the link's signature, then those steps.
    """
    if tokens.live(raw_token, tokens.CONFIRM) is None:
        return None
    params = {"token_hash": tokens.token_hash(raw_token), "purpose": tokens.CONFIRM, "now": datetime.now(timezone.utc)}
    if db.engine.dialect.name == "postgresql":
        _commit_callers_work()
        rows = run_alone(_confirm_link_statement(), {**params, "confirmed_at": coarse_now(),
                                                     "shard": counts.random_shard()})
        if not rows:
            return None
        found = rows[0]
        if found.hooked:
            _confirm(found.id, found.campaign_id)
    else:
        found = run(_link_statement(), params).first()
        if found is None:
            return None
        _confirm(found.id, found.campaign_id)
    return LinkSigner(found.id, found.campaign_id, found.language)


_LINK: list = []


def _link_statement():
    """The signature columns a confirmation needs, by its live link (a Core select built once)."""
    if not _LINK:
        table, token = Signature.__table__, Token.__table__
        _LINK.append(
            select(table.c.id, table.c.campaign_id, table.c.language)
            .join(token, token.c.signature_id == table.c.id)
            .where(token.c.token_hash == bindparam("token_hash"), token.c.purpose == bindparam("purpose"),
                   token.c.expires_at > bindparam("now", type_=token.c.expires_at.type)))
    return _LINK[0]


_CONFIRM_LINK: list = []


def _confirm_link_statement():
    """PostgreSQL: a confirmation by its link in one statement.

    `link` finds the link's signature with what counting needs of its campaign; `hooked` whether the organisation
    has an enabled webhook endpoint (then nothing changes here: confirm_link runs the steps that queue the event);
    `confirmed` sets the time unless set (two confirmations at the same moment: the UPDATE checks again on the row
    it waited for, so only one passes); `counted` adds it to a random shard when the campaign counts confirmed
    signatures only. The row returned is the link's signature, if the link is live.
    """
    if not _CONFIRM_LINK:
        table, token = Signature.__table__, Token.__table__
        _CONFIRM_LINK.append(text(
            "WITH link AS (SELECT s.id, s.campaign_id, s.language, c.count_confirmed_only, c.organisation_id "  # noqa: S608
            "FROM tokens t JOIN signatures s ON s.id = t.signature_id JOIN campaigns c ON c.id = s.campaign_id "
            "WHERE t.token_hash = :token_hash AND t.purpose = :purpose AND t.expires_at > :now), "
            "hooked AS (SELECT EXISTS (SELECT 1 FROM webhook_endpoints w JOIN link "
            "ON w.organisation_id = link.organisation_id WHERE w.enabled) AS yes), "
            "confirmed AS (UPDATE signatures SET confirmed_at = :confirmed_at FROM link "
            "WHERE signatures.id = link.id AND signatures.confirmed_at IS NULL AND NOT (SELECT yes FROM hooked) "
            "RETURNING signatures.id), "
            "counted AS (INSERT INTO campaign_counts (campaign_id, shard, n) "
            "SELECT link.campaign_id, :shard, 1 FROM confirmed JOIN link ON link.id = confirmed.id "
            f"WHERE link.count_confirmed_only {counts.ADD_TO_SHARD}) "
            "SELECT link.id, link.campaign_id, link.language, (SELECT yes FROM hooked) AS hooked FROM link"
        ).bindparams(bindparam("token_hash", type_=token.c.token_hash.type),
                     bindparam("purpose", type_=token.c.purpose.type),
                     bindparam("now", type_=token.c.expires_at.type),
                     bindparam("confirmed_at", type_=table.c.confirmed_at.type),
                     bindparam("shard", type_=Integer()))
         .columns(id=Integer(), campaign_id=Integer(), language=table.c.language.type, hooked=Boolean()))
    return _CONFIRM_LINK[0]


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

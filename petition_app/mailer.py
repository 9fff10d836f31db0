"""Mail: queued in the caller's transaction, rendered and sent later by the worker, never lost.

- The outbox holds personal data (address, first name, rendered bodies with their link tokens) only encrypted
  (PyNaCl SecretBox) under a key that is not in the database: derived from OUTBOX_KEY, or from SECRET_KEY when unset.
  Table files, WAL, dumps and backups hold ciphertext; the worker decrypts at send time.
- A signer's mail is queued with only what the worker needs (kind, language, signature and campaign, the encrypted
  address and first name); the worker renders it and issues its link tokens, and drops it if the signature is gone.
- Delivery is at least once: each attempt is recorded before the mail leaves, and every attempt reuses the message's
  Message-ID, so a mail delivered again after a crash shows once in mail clients.
- One message never stops the queue: whatever goes wrong with it is recorded on it, and the pass goes on.
- Times stored with a signer's mail are as coarse as the signature's (SIGNATURE_TIME_PRECISION).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import smtplib
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import force_locale
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import Boolean, DateTime, bindparam, case, func, literal, or_, select, text, update

from petition_app import audit, site_settings, tokens
from petition_app.campaign_versions import localised, version_url
from petition_app.extensions import db, run
from petition_app.models import Campaign, OutboxMessage, OutboxStatus, Signature
from petition_app.privacy import coarse_now
from petition_app.templating import public_url

log = logging.getLogger(__name__)


# -- the outbox's key ----------------------------------------------------------------------------------------------

def _outbox_key() -> bytes:
    """HKDF-SHA256 (RFC 5869) of OUTBOX_KEY, or of SECRET_KEY when unset: a key that is never in the database."""
    secret = (current_app.config.get("OUTBOX_KEY") or current_app.config["SECRET_KEY"]).encode()
    pseudo_random_key = hmac.new(b"petition_app outbox", secret, hashlib.sha256).digest()
    return hmac.new(pseudo_random_key, b"outbox payload v1\x01", hashlib.sha256).digest()


def seal_payload(data: dict) -> bytes:
    """Encrypt a message's personal data for the outbox."""
    return bytes(SecretBox(_outbox_key()).encrypt(json.dumps(data, ensure_ascii=False).encode()))


def open_payload(message: OutboxMessage) -> dict | None:
    """A message's decrypted personal data (None once wiped); raises nacl's CryptoError under another key."""
    if message.payload is None:
        return None
    return json.loads(SecretBox(_outbox_key()).decrypt(bytes(message.payload)))


def recipient(message: OutboxMessage) -> str | None:
    """The address a queued (or failed) message goes to, as stored in the outbox; None once it is sent or forgotten,
    and for an update mailing's message that has not been rendered yet (it holds no address until then)."""
    payload = open_payload(message)
    return payload.get("to") if payload else None


# -- coarse times ------------------------------------------------------------------------------------------------

_PRECISION_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _at(signer: bool) -> datetime:
    """Now; for a signer's mail, now as coarse as a signature's time."""
    return coarse_now() if signer else _now()


def _not_before(moment: datetime, signer: bool) -> datetime:
    """`moment`; for a signer's mail, the first boundary of the signature time precision at or after it."""
    if not signer:
        return moment
    step = _PRECISION_SECONDS.get(current_app.config.get("SIGNATURE_TIME_PRECISION", "hour"), 3600)
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, timezone.utc)


# -- composing ---------------------------------------------------------------------------------------------------

def compose(template: str, language: str, **context) -> tuple[str, str, str]:
    """Render email/<template>.txt (first line "Subject: ...") and .html in the language; returns subject, text, html."""
    with force_locale(language):
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email/{template}.txt must start with a Subject: line")
    return " ".join(first[len("Subject:"):].split()), body.strip() + "\n", html


def new_message_id() -> str:
    domain = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def _unsubscribe_headers(url: str | None) -> dict[str, str]:
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


unsubscribe_headers = _unsubscribe_headers


def enqueue(kind: str, to_address: str, language: str, template: str, *, list_unsubscribe: str | None = None,
            sender: str | None = None, campaign_id: int | None = None, signature_id: int | None = None,
            **context) -> OutboxMessage:
    """Render a mail now and add it, encrypted, to the outbox in the current transaction (the caller commits)."""
    subject, text, html = compose(template, language, **context)
    signer = signature_id is not None
    now = _at(signer)
    message = OutboxMessage(
        kind=kind, language=language, message_id=new_message_id(), campaign_id=campaign_id,
        signature_id=signature_id, sender=sender or default_sender(language),
        payload=seal_payload({"to": to_address, "subject": subject, "text": text, "html": html,
                              "headers": _unsubscribe_headers(list_unsubscribe)}),
        created_at=now, next_attempt_at=now,
    )
    db.session.add(message)
    return message


# -- signers' mail: queued by the sign request, rendered by the worker ---------------------------------------------

SIGNER_MAILS = ("confirm", "already_signed")


def default_sender(language: str) -> str:
    """MAIL_DEFAULT_SENDER, under the sender name of the site settings in the mail's language when one is set."""
    name = site_settings.value("mail_sender_name", language)
    if not name:
        return current_app.config["MAIL_DEFAULT_SENDER"]
    _, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    sender = formataddr((name, address))
    return sender if len(sender) <= 320 else current_app.config["MAIL_DEFAULT_SENDER"]  # the outbox column's size


def discreet_sender() -> str:
    _, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return formataddr((current_app.config["DISCREET_SENDER_NAME"], address))


def enqueue_signature_mail(signature, prepared: dict, *, send: bool = True) -> None:
    """Queue a signer's mail with only what the worker needs; it renders the mail and issues its links.

    One INSERT ... SELECT ... WHERE :send, compiled once: with `send` false it runs the same statement and inserts
    nothing, so a mail refused by a limit costs what a mail costs. `signature` is the Signature or its row (id,
    language and confirmed_at are read: the confirmation while unconfirmed, else "already signed", as
    signer_mails_from decides in SQL); `prepared` is signer_mail_values(...), made before the write transaction
    (with the sealed personal data): inside it, only the statement.
    """
    kind = SIGNER_MAILS[0] if signature.confirmed_at is None else SIGNER_MAILS[1]
    now = prepared["mail_now"]
    run(_signer_mail_statement(), {
        "kind": kind, "status": prepared["mail_status"], "language": signature.language,
        "message_id": prepared["message_id"], "campaign_id": prepared["campaign_id"], "signature_id": signature.id,
        "discreet": prepared["discreet"],
        "sender": prepared["sender_by_language"].get(signature.language, prepared["sender"]),
        "payload": prepared["payload"], "attempts": 0, "last_error": "", "created_at": now, "next_attempt_at": now,
        "send": send,
    })


_SIGNER_MAIL_COLUMNS = ("kind", "status", "language", "message_id", "campaign_id", "signature_id", "discreet",
                        "sender", "payload", "attempts", "last_error", "created_at", "next_attempt_at")
_SIGNER_MAIL: list = []


def _signer_mail_statement():
    """INSERT INTO outbox (...) SELECT :kind, ... WHERE :send; the same SQL on SQLite and PostgreSQL, built once."""
    if not _SIGNER_MAIL:
        table = OutboxMessage.__table__
        _SIGNER_MAIL.append(text(
            f"INSERT INTO outbox ({', '.join(_SIGNER_MAIL_COLUMNS)}) "  # noqa: S608 (constant column names)
            f"SELECT {', '.join(':' + name for name in _SIGNER_MAIL_COLUMNS)} WHERE :send"
        ).bindparams(*(bindparam(name, type_=table.c[name].type) for name in _SIGNER_MAIL_COLUMNS),
                     bindparam("send", type_=Boolean())))
    return _SIGNER_MAIL[0]


def signer_mail_values(campaign, payload: bytes) -> dict:
    """The parameters of a signer's queued mail that the signature's row does not decide (see signer_mails_from).

    `senders` maps each language to its sender (a JSON object: the row's language picks one in SQL); `sender` is
    the discreet sender, or the sender of a language no longer configured.
    """
    by_language, senders, sender = ({}, "{}", discreet_sender()) if campaign.discreet_mail else _senders()
    return {"mail_status": OutboxStatus.QUEUED, "message_id": new_message_id(), "campaign_id": campaign.id,
            "discreet": bool(campaign.discreet_mail), "senders": senders, "sender": sender,
            "sender_by_language": by_language, "payload": payload, "mail_now": coarse_now()}


_SENDERS: dict[tuple, tuple[dict, str, str]] = {}


def _senders() -> tuple[dict, str, str]:
    """Each configured language's sender (as a dict and as a JSON object) and the sender of any other language,
    worked out once per version of the site settings (they name the senders) and of the configuration."""
    config = current_app.config
    key = (site_settings.version(), tuple(config["LANGUAGES"]), config["MAIL_DEFAULT_SENDER"])
    found = _SENDERS.get(key)
    if found is None:
        if len(_SENDERS) > 16:  # versions replaced by changes
            _SENDERS.clear()
        senders = {language: default_sender(language) for language in config["LANGUAGES"]}
        found = _SENDERS[key] = (senders, json.dumps(senders), default_sender(""))  # "": no settings of its own
    return found


def signer_mails_from(rows: str) -> str:
    """INSERT INTO outbox ... SELECT ... FROM (<rows>) AS signer: a signer's mail for each signature row of `rows`
    (id, language, confirmed_at), for a statement that stores a signature and queues its mail at once (PostgreSQL,
    a WITH clause). The row decides the kind (the confirmation while unconfirmed, else "already signed"), the
    language and so the sender; the rest are parameters (signer_mail_values, typed by signer_mail_parameters)."""
    kinds = {"new": SIGNER_MAILS[0], "again": SIGNER_MAILS[1]}
    return (
        f"INSERT INTO outbox ({', '.join(_SIGNER_MAIL_COLUMNS)}) "  # noqa: S608 (constant text)
        f"SELECT CASE WHEN signer.confirmed_at IS NULL THEN '{kinds['new']}' ELSE '{kinds['again']}' END, "
        ":mail_status, signer.language, :message_id, :campaign_id, signer.id, :discreet, "
        "COALESCE(CAST(:senders AS jsonb) ->> signer.language, :sender), :payload, 0, '', :mail_now, :mail_now "
        f"FROM ({rows}) AS signer"
    )


def signer_mail_parameters() -> list:
    """The typed parameters of signer_mails_from's SQL."""
    table = OutboxMessage.__table__
    return [bindparam("mail_status", type_=table.c.status.type), bindparam("message_id", type_=table.c.message_id.type),
            bindparam("discreet", type_=Boolean()), bindparam("senders", type_=table.c.sender.type),
            bindparam("sender", type_=table.c.sender.type), bindparam("payload", type_=table.c.payload.type),
            bindparam("mail_now", type_=table.c.created_at.type)]


def signer_links(signature: Signature) -> dict[str, str]:
    """Fresh withdraw and unsubscribe links for a signer, and a confirm link while the signature is unconfirmed."""
    cfg = current_app.config
    links = {
        "withdraw_url": public_url("signing.withdraw", token=tokens.issue(
            tokens.WITHDRAW, cfg["LINK_TOKEN_DAYS"], signature_id=signature.id)),
        "unsubscribe_url": public_url("signing.unsubscribe", token=tokens.issue(
            tokens.UNSUBSCRIBE, cfg["LINK_TOKEN_DAYS"], signature_id=signature.id)),
    }
    if signature.confirmed_at is None:
        links["confirm_url"] = public_url("signing.confirm", token=tokens.issue(
            tokens.CONFIRM, cfg["CONFIRM_TOKEN_DAYS"], signature_id=signature.id))
    return links


# Renderers of other kinds of signer mail queued with only what the worker needs, registered by the modules that
# queue them (mailings.py: "mailing"), so that this module imports none of them.
RENDERERS: dict[str, Callable[[OutboxMessage, dict], dict | None]] = {}


def _render_signer_mail(message: OutboxMessage, payload: dict) -> dict | None:
    """Render a signer's mail and issue its links; None when the signature was withdrawn or erased meanwhile."""
    if message.kind in RENDERERS:
        return RENDERERS[message.kind](message, payload)
    signature = db.session.get(Signature, message.signature_id) if message.signature_id is not None else None
    campaign = db.session.get(Campaign, message.campaign_id) if message.campaign_id is not None else None
    if signature is None or campaign is None or signature.email_hash is None:
        return None
    links = signer_links(signature)
    version = localised(campaign, message.language)  # the version the signer read, if it exists
    subject, text, html = compose(
        message.kind, message.language, campaign=version, first_name=payload["first_name"],
        discreet=message.discreet, campaign_url=version_url(version, external=True), **links,
    )
    return {"to": payload["to"], "subject": subject, "text": text, "html": html,
            "headers": _unsubscribe_headers(links["unsubscribe_url"])}


# -- building ----------------------------------------------------------------------------------------------------

class _MailPolicy(EmailPolicy):
    """The SMTP policy, except that List-Unsubscribe goes out as written: a plain `<https://...>` mail clients read.

    (The standard policy RFC 2047-encodes and folds a long URL, which no mail client can use.)
    """

    verbatim = frozenset({"list-unsubscribe", "list-unsubscribe-post"})

    def _plain(self, name: str, value) -> str | None:
        text = str(value)
        if name.lower() in self.verbatim and text.isascii() and len(name) + len(text) < 996:
            return f"{name}: {text}{self.linesep}"
        return None

    def fold(self, name, value):
        return self._plain(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        plain = self._plain(name, value)
        return plain.encode("ascii") if plain else super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy(linesep="\r\n")


class NotDeliverable(ValueError):
    """A message that can never be sent as it is (no retry helps)."""


def envelope_address(address: str) -> str:
    """The address as SMTP needs it: the domain in ASCII (IDNA); a non-ASCII local part stays (it needs SMTPUTF8)."""
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        raise NotDeliverable("the recipient's address is not valid") from error
    return valid.ascii_email or f"{valid.local_part}@{valid.ascii_domain}"


def build(message: OutboxMessage, payload: dict) -> EmailMessage:
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["Subject"] = payload["subject"]
    mail["From"] = message.sender
    mail["To"] = envelope_address(payload["to"])
    mail["Date"] = format_datetime(_now())
    mail["Message-ID"] = message.message_id
    for name, value in payload.get("headers", {}).items():
        mail[name] = value
    mail.set_content(payload["text"])
    if payload.get("html"):
        mail.add_alternative(payload["html"], subtype="html")
    return mail


# -- sending -----------------------------------------------------------------------------------------------------

def _lease() -> timedelta:
    return timedelta(seconds=4 * current_app.config["MAIL_TIMEOUT"] + 60)


def claim(worker_id: str, limit: int) -> list[int]:
    """Claim up to `limit` due messages for this worker; a row is claimed by one worker only, on any database."""
    now = _now()
    due = (OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now,
           or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
    lease_end = now + _lease()
    claimed_until = case((OutboxMessage.signature_id.is_(None), literal(lease_end, DateTime(timezone=True))),
                         else_=literal(_not_before(lease_end, signer=True), DateTime(timezone=True)))
    candidates = db.session.execute(
        select(OutboxMessage.id).where(*due).order_by(OutboxMessage.id).limit(limit)
    ).scalars().all()
    db.session.rollback()  # end the read before the writes, so SQLite takes its write lock cleanly
    claimed = []
    for message_id in candidates:  # id order everywhere: concurrent claimers never deadlock
        result = db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, *due)
            .values(claimed_by=worker_id, claimed_until=claimed_until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()
    return claimed


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    smtp_class = smtplib.SMTP_SSL if cfg.get("MAIL_USE_SSL") else smtplib.SMTP
    host = smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
    try:
        if cfg.get("MAIL_USE_TLS"):
            host.starttls()
        if cfg.get("MAIL_USERNAME") and cfg.get("MAIL_PASSWORD"):
            host.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
    except BaseException:
        host.close()
        raise
    return host


# Errors after which smtplib has reset the session: the connection serves the next message.
_SESSION_INTACT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                   smtplib.SMTPNotSupportedError, NotDeliverable)


class _Delivery:
    """Where one pass's mail goes: one SMTP connection (reopened after a failure), or .eml files without a server."""

    def __init__(self) -> None:
        self.host: smtplib.SMTP | None = None
        self.unreachable: BaseException | None = None

    def send(self, message: OutboxMessage, mail: EmailMessage) -> None:
        if not current_app.config.get("MAIL_SERVER"):
            path = _write_eml(message, mail)
            log.warning("mail %s written to %s (no MAIL_SERVER is set)", message.id, path)
            return
        if self.unreachable is not None:  # the server could not be reached in this pass: don't wait on it again
            raise self.unreachable
        if self.host is None:
            try:
                self.host = _connect()
            except Exception as error:
                self.unreachable = error
                raise
        try:
            self.host.ehlo_or_helo_if_needed()
            to = str(mail["To"])
            options = ["BODY=8BITMIME"] if to.isascii() and self.host.has_extn("8bitmime") else []
            # send_message asks for SMTPUTF8 for a non-ASCII address, or refuses before sending anything.
            self.host.send_message(mail, parseaddr(message.sender)[1], [to], mail_options=options)
        except _SESSION_INTACT:
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()
            self.host = None


def _is_permanent(error: BaseException) -> bool:
    if isinstance(error, (smtplib.SMTPNotSupportedError, NotDeliverable, UnicodeError, CryptoError)):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600 and not isinstance(error, smtplib.SMTPServerDisconnected)


def _describe(error: BaseException, address: str | None) -> str:
    """The error for the outbox row: its class and text, with the recipient's address taken out."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        text = "the mail server does not accept international addresses (it offers no SMTPUTF8)"
    elif isinstance(error, CryptoError):
        text = "cannot decrypt the message (were OUTBOX_KEY or SECRET_KEY changed?)"
    else:
        text = str(error)
    if address:
        variants = {address, address.lower()}
        try:
            variants.add(envelope_address(address))
        except NotDeliverable:
            pass
        for variant in sorted(variants, key=len, reverse=True):
            text = text.replace(variant, "<recipient>")
    return f"{type(error).__name__}: {text}"[:500]


def _record_attempt(message: OutboxMessage, signer: bool) -> None:
    """Count an attempt and schedule the next one, before the mail leaves: a crash after sending retries it later."""
    cfg = current_app.config
    message.attempts += 1
    message.attempted_at = _at(signer)
    delay = min(cfg["MAIL_RETRY_BASE_SECONDS"] * 2 ** (message.attempts - 1), cfg["MAIL_RETRY_MAX_SECONDS"])
    message.next_attempt_at = _not_before(_now() + timedelta(seconds=delay), signer) if delay else _at(signer)


def _finish(message: OutboxMessage, status: OutboxStatus, signer: bool) -> None:
    message.status = status
    if status == OutboxStatus.SENT:
        message.sent_at = _at(signer)
        message.last_error = ""
    message.claimed_by = message.claimed_until = None
    message.signature_id = None  # a delivered or dropped mail keeps no link to its signer
    message.wipe_personal_data()


@dataclass
class _Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0


def _mark_failure(message: OutboxMessage, error: BaseException, address: str | None, tally: _Tally) -> None:
    message.last_error = _describe(error, address)
    message.claimed_by = message.claimed_until = None
    reason = type(error).__name__
    if _is_permanent(error) or message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        tally.failed += 1
        log.error("mail %s failed for good at attempt %s: %s", message.id, message.attempts, reason)
    else:
        tally.retried += 1
        log.warning("mail %s attempt %s failed (%s); retry at %s", message.id, message.attempts, reason,
                    message.next_attempt_at.isoformat())


def _process(message_id: int, delivery: _Delivery, tally: _Tally) -> None:
    """Render (if needed), record the attempt, send; any error is recorded on this message only."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return
    signer = message.signature_id is not None
    address = None
    recorded = False
    try:
        payload = open_payload(message)
        if payload is not None:
            address = payload.get("to")  # an update mailing's message holds none: read from the signature below
            if "subject" not in payload:  # a signer's mail: rendered once, its links issued now
                payload = _render_signer_mail(message, payload)
                if payload is not None:
                    address = payload["to"]
                    message.payload = seal_payload(payload)
        if payload is None:  # forgotten, withdrawn or erased since it was queued
            _finish(message, OutboxStatus.CANCELLED, signer)
            db.session.commit()
            tally.cancelled += 1
            return
        _record_attempt(message, signer)
        db.session.commit()  # the attempt (and the rendered mail) is on record before the mail leaves
        recorded = True
        delivery.send(message, build(message, payload))
    except Exception as error:  # noqa: BLE001 (one message, whatever its fault, never stops the queue)
        db.session.rollback()
        message = db.session.get(OutboxMessage, message_id)
        if not recorded:
            _record_attempt(message, signer)
        _mark_failure(message, error, address, tally)
        db.session.commit()
        return
    _finish(message, OutboxStatus.SENT, signer)
    db.session.commit()
    tally.sent += 1


def _write_eml(message: OutboxMessage, mail: EmailMessage) -> Path:
    folder = Path(current_app.config["MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_now():%Y%m%d-%H%M%S}-{message.id}-{message.kind}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(mail.as_bytes(policy=MAIL_POLICY.clone(utf8=True)))
    return path


def delete_old_mail_files(days: int, dry_run: bool = False) -> int:
    """Delete .eml files (written when no MAIL_SERVER is set) older than `days`: they hold addresses and names."""
    folder = Path(current_app.config["MAIL_DIR"])
    if not folder.is_dir():
        return 0
    cutoff = time.time() - days * 86400
    old = [path for path in folder.glob("*.eml") if path.stat().st_mtime < cutoff]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return len(old)


def send_batch(worker_id: str) -> int:
    """Send one batch of due messages; returns how many were handled (sent, rescheduled, failed or dropped)."""
    ids = claim(worker_id, current_app.config["MAIL_BATCH_SIZE"])
    if not ids:
        return 0
    tally = _Tally()
    delivery = _Delivery()
    try:
        for message_id in ids:
            _process(message_id, delivery, tally)
    finally:
        delivery.close()
        log.info("mail pass: %s sent, %s to retry, %s failed, %s dropped", tally.sent, tally.retried, tally.failed,
                 tally.cancelled)
    return len(ids)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def send_due(worker: str | None = None) -> int:
    """Send everything that is due now (the worker's --once); returns how many messages were handled."""
    worker = worker or worker_id()
    total = 0
    while handled := send_batch(worker):
        total += handled
    return total


def retry_failed(campaign) -> int:
    """Queue a campaign's failed messages again (after the mail server was fixed), audited; returns how many."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.status == OutboxStatus.FAILED,
               OutboxMessage.payload.is_not(None))
        .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=coarse_now(), claimed_by=None,
                claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    audit.record("failed mails queued again", campaign.slug, campaign.organisation_id, f"{result.rowcount} messages")
    db.session.commit()
    return result.rowcount


def forget(condition) -> None:
    """Wipe the personal data of the outbox messages matching `condition` and cancel those not yet sent
    (their signature or proposal is going away). The rows stay, for the admins' statistics."""
    db.session.execute(
        update(OutboxMessage).where(condition).values(payload=None).execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage).where(condition, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False)
    )


def outbox_state(campaign_id: int | None = None) -> dict[str, int]:
    """How many messages are queued, sent and failed (for admins)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if campaign_id is not None:
        query = query.where(OutboxMessage.campaign_id == campaign_id)
    found = {str(status): n for status, n in db.session.execute(query)}
    return {s.value: found.get(s.value, 0) for s in OutboxStatus}

"""Mail: composed into the outbox inside the caller's transaction, sent later by the worker, never lost.

Flask-Mail builds and sends the messages; this module adds what it lacks: SMTP time-outs, the outbox,
safe claiming by several workers, retries with exponential backoff, and the .eml folder for local use.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import flask_mail
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import or_, select, update

from petition_app.extensions import db
from petition_app.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


class TimeoutConnection(flask_mail.Connection):
    """A Flask-Mail connection whose every SMTP operation gives up after MAIL_TIMEOUT seconds."""

    def __init__(self, mail_state, timeout: float):
        super().__init__(mail_state)
        self.timeout = timeout

    def __enter__(self):
        self.host = self.configure_host()
        self.num_emails = 0
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()

    def configure_host(self):
        m = self.mail
        if m.use_ssl:
            host = smtplib.SMTP_SSL(m.server, m.port, timeout=self.timeout)
        else:
            host = smtplib.SMTP(m.server, m.port, timeout=self.timeout)
        if m.use_tls:
            host.starttls()
        if m.username and m.password:
            host.login(m.username, m.password)
        return host


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


def enqueue(kind: str, to_address: str, language: str, template: str, *, list_unsubscribe: str | None = None,
            sender: str | None = None, campaign_id: int | None = None, signature_id: int | None = None,
            **context) -> OutboxMessage:
    """Add a mail to the outbox in the current transaction (the caller commits)."""
    subject, text, html = compose(template, language, **context)
    headers = {}
    if list_unsubscribe:
        headers["List-Unsubscribe"] = f"<{list_unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = OutboxMessage(
        kind=kind, to_address=to_address, language=language, subject=subject, text_body=text, html_body=html,
        headers=json.dumps(headers), message_id=new_message_id(), campaign_id=campaign_id,
        signature_id=signature_id, sender=sender or current_app.config["MAIL_DEFAULT_SENDER"],
    )
    db.session.add(message)
    return message


# -- sending -----------------------------------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _lease() -> timedelta:
    return timedelta(seconds=4 * current_app.config["MAIL_TIMEOUT"] + 60)


def claim(worker_id: str, limit: int) -> list[int]:
    """Claim up to `limit` due messages for this worker; a row is claimed by one worker only, on any database."""
    now = _now()
    due = (OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now,
           or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
    candidates = db.session.execute(
        select(OutboxMessage.id).where(*due).order_by(OutboxMessage.id).limit(limit)
    ).scalars().all()
    db.session.rollback()  # end the read before the writes, so SQLite takes its write lock cleanly
    claimed = []
    for message_id in candidates:  # id order everywhere: concurrent claimers never deadlock
        result = db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, *due)
            .values(claimed_by=worker_id, claimed_until=now + _lease())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()
    return claimed


def build(message: OutboxMessage) -> flask_mail.Message:
    mail_message = flask_mail.Message(
        subject=message.subject, recipients=[message.to_address], body=message.text_body,
        html=message.html_body or None, sender=message.sender,
        date=message.created_at.timestamp() if message.created_at else time.time(),
        extra_headers={k: v for k, v in json.loads(message.headers or "{}").items()},
    )
    mail_message.msgId = message.message_id
    return mail_message


def _scrub(error: BaseException, message: OutboxMessage) -> str:
    text = f"{type(error).__name__}: {error}"
    if message.to_address:
        text = text.replace(message.to_address, "<recipient>")
    return text[:500]


def _is_permanent(error: BaseException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600 and not isinstance(error, smtplib.SMTPServerDisconnected)


def _mark_sent(message: OutboxMessage) -> None:
    message.status = OutboxStatus.SENT
    message.sent_at = _now()
    message.attempts += 1
    message.claimed_by = message.claimed_until = None
    message.last_error = ""
    message.wipe_personal_data()


def _mark_retry(message: OutboxMessage, error: BaseException, permanent: bool = False) -> None:
    cfg = current_app.config
    message.attempts += 1
    message.last_error = _scrub(error, message)
    message.claimed_by = message.claimed_until = None
    if permanent or message.attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        log.warning("mail %s failed for good after %s attempts: %s", message.id, message.attempts, message.last_error)
        return
    delay = min(cfg["MAIL_RETRY_BASE_SECONDS"] * 2 ** (message.attempts - 1), cfg["MAIL_RETRY_MAX_SECONDS"])
    message.next_attempt_at = _now() + timedelta(seconds=delay)
    log.info("mail %s will be retried in %ss: %s", message.id, delay, message.last_error)


def _write_eml(message: OutboxMessage, mail_message: flask_mail.Message) -> Path:
    folder = Path(current_app.config["MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_now():%Y%m%d-%H%M%S}-{message.id}-{message.kind}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(mail_message.as_bytes())
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
    """Send one batch of due messages; returns how many were handled (sent, rescheduled or failed)."""
    ids = claim(worker_id, current_app.config["MAIL_BATCH_SIZE"])
    if not ids:
        return 0
    messages = [db.session.get(OutboxMessage, i) for i in ids]
    if not current_app.config.get("MAIL_SERVER"):
        for message in messages:
            path = _write_eml(message, build(message))
            _mark_sent(message)
            db.session.commit()
            log.warning("Mail written to %s (no MAIL_SERVER is set)", path)
        return len(messages)
    try:
        connection = TimeoutConnection(current_app.extensions["mail"], current_app.config["MAIL_TIMEOUT"])
        connection.__enter__()
    except (OSError, smtplib.SMTPException) as error:  # server down, refusing, or hanging past the time-out
        for message in messages:
            _mark_retry(message, error)
        db.session.commit()
        return len(messages)
    try:
        broken: BaseException | None = None
        for message in messages:
            if broken is not None:
                _mark_retry(message, broken)
                continue
            try:
                connection.send(build(message))
            except (OSError, smtplib.SMTPException) as error:
                _mark_retry(message, error, permanent=_is_permanent(error))
                if isinstance(error, (OSError, smtplib.SMTPServerDisconnected)):
                    broken = error
            else:
                _mark_sent(message)
            db.session.commit()
        db.session.commit()
    finally:
        connection.__exit__(None, None, None)
    return len(messages)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def send_due(worker: str | None = None) -> int:
    """Send everything that is due now (the worker's --once); returns how many messages were handled."""
    worker = worker or worker_id()
    total = 0
    while handled := send_batch(worker):
        total += handled
    return total


def retry_failed(campaign_id: int) -> int:
    """Queue a campaign's failed messages again (after the mail server was fixed); returns how many."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.status == OutboxStatus.FAILED,
               OutboxMessage.to_address.is_not(None))
        .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=_now(), claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def forget(condition) -> None:
    """Wipe the personal data of the outbox messages matching `condition` and cancel those not yet sent
    (their signature or proposal is going away). The rows stay, for the admins' statistics."""
    db.session.execute(
        update(OutboxMessage).where(condition).values(to_address=None, text_body="", html_body="", headers="{}")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage).where(condition, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False)
    )


def outbox_state(campaign_id: int | None = None) -> dict[str, int]:
    """How many messages are queued, sent and failed (for admins)."""
    from sqlalchemy import func

    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if campaign_id is not None:
        query = query.where(OutboxMessage.campaign_id == campaign_id)
    found = {str(status): n for status, n in db.session.execute(query)}
    return {s.value: found.get(s.value, 0) for s in OutboxStatus}


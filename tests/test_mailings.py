"""Update mailings to signers who opted in, against a real SMTP server: who gets one, exactly once, at what rate,
through crashes, in which language, with a one-click unsubscribe that works, in flat memory."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from petition_app import mailer, mailings
from petition_app.extensions import db
from petition_app.models import (
    Campaign,
    CampaignStatus,
    Mailing,
    MailingStatus,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Signature,
)
from petition_app.privacy import coarse_now
from tests.conftest import ROOT
from tests.mailbox import Mailbox, SMTPServer, html_part, text_part

EN_BODY = "We **delivered** the petition.\n\n- first\n- second\n\n<script>alert(1)</script>"
RU_BODY = "Мы **передали** петицию."


class CompactMailbox(Mailbox):
    """Keeps only each mail's recipient and Message-ID: ten thousand mails must not weigh on the memory measured."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        found = re.search(rb"\r\nMessage-ID: (<[^>\r\n]+>)\r\n", envelope.content)
        with self.lock:
            self.received.append((envelope.rcpt_tos[0], found.group(1).decode() if found else ""))
        return "250 OK"


class KillingMailbox(CompactMailbox):
    """Takes the mail, then kills the sending worker at the `kill_at`-th mail before it hears "250"."""

    victim: int | None = None
    kill_at: int = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await super().handle_DATA(server, session, envelope)
        if self.victim is not None and len(self.received) >= self.kill_at:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
        return "250 OK"


@pytest.fixture
def server():
    servers = []

    def start(**options) -> SMTPServer:
        smtp = SMTPServer(**options).start()
        servers.append(smtp)
        return smtp

    yield start
    for smtp in servers:
        smtp.stop()


def _app(make_app, smtp, **settings):
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=10, MAIL_RETRY_BASE_SECONDS=0,
                    **{"MAIL_RATE_PER_MINUTE": 10**6, "MAIL_BATCH_SIZE": 100, **settings})


def _campaign(slug: str = "pride", org: Organisation | None = None, **fields) -> Campaign:
    if org is None:
        org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "mail-org")).scalar()
        org = org or Organisation(slug="mail-org", name="Mail Org")
    campaign = Campaign(slug=slug, title=fields.pop("title", "Pride in the park"), organisation=org,
                        status=CampaignStatus.OPEN, **fields)
    db.session.add(campaign)
    db.session.commit()
    return campaign


SKIPPED_KINDS = ("no consent", "unconfirmed", "erased", "unsubscribed")


def _bulk(campaign: Campaign, eligible: int, skipped_every: int = 5, prefix: str = "s") -> dict[str, set[str]]:
    """Insert signatures fast (one executemany): `eligible` who opted in and confirmed, and one in `skipped_every`
    more who must get nothing (no consent, unconfirmed, erased, unsubscribed); returns the addresses by kind."""
    now = coarse_now()
    rows, kinds = [], {"eligible": set(), **{kind: set() for kind in SKIPPED_KINDS}}
    i = 0
    while len(kinds["eligible"]) < eligible:
        address = f"{prefix}{i}@example.org"
        kind = SKIPPED_KINDS[(i // skipped_every) % 4] if i % skipped_every == skipped_every - 1 else "eligible"
        kinds[kind].add(address)
        rows.append({
            "campaign_id": campaign.id, "first_name": f"N{i}", "last_name": "Signer", "email": address,
            "email_hash": None if kind == "erased" else f"{prefix}-{campaign.id}-{i}", "country": "DE",
            "consent_email": kind not in ("no consent", "unsubscribed"), "consent_sms": False,
            "consent_share": False, "language": "ru" if i % 2 else "en", "created_at": now,
            "confirmed_at": None if kind == "unconfirmed" else now, "repeat_mails": 0,
        })
        i += 1
    db.session.execute(sa.insert(Signature.__table__), rows)
    db.session.commit()
    return kinds


def _mailing(campaign: Campaign, **texts) -> Mailing:
    texts = texts or {"en": ("Good news", EN_BODY), "ru": ("Хорошие новости", RU_BODY)}
    mailing = mailings.create(campaign, texts)
    db.session.commit()
    return mailing


def _send(mailing: Mailing) -> None:
    campaign = db.session.get(Campaign, mailing.campaign_id)
    mailings.change_status(mailing, campaign, MailingStatus.SENDING)
    db.session.commit()


def _drain() -> int:
    """What the worker does, until nothing is left: queue a batch of the mailing, send what is due."""
    passes = 0
    while mailings.advance() + mailer.send_due():
        passes += 1
    return passes


def _parsed(smtp) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp.box.envelopes]


# -- ten thousand, each exactly once, in flat memory ------------------------------------------------------------

def _drain_measuring(received: list, windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drain, tracing memory (tracemalloc) while the mails numbered in each window go out; returns each window's
    (peak, still held at its end) in bytes."""
    results, window = [], None
    while True:
        if window is None and windows and len(received) >= windows[0][0]:
            window = windows.pop(0)
            tracemalloc.start()
        handled = mailings.advance() + mailer.send_due()
        if window is not None and (len(received) >= window[1] or not handled):
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            results.append((peak, current))
            window = None
        if not handled:
            return results


@pytest.mark.slow
def test_ten_thousand_signers_each_get_the_mailing_exactly_once_in_flat_memory(make_app, server):
    smtp = server(box=CompactMailbox())
    app = _app(make_app, smtp, MAIL_BATCH_SIZE=200)
    with app.app_context():
        campaign = _campaign()
        kinds = _bulk(campaign, 10_000)
        mailing = _mailing(campaign)
        _send(mailing)
        (first_peak, first_held), (last_peak, last_held) = _drain_measuring(
            smtp.box.received, [(0, 400), (9_600, 10_000)])
        db.session.expire_all()
        mailing = db.session.get(Mailing, mailing.id)
        assert mailing.status == MailingStatus.DONE and mailing.recipients == 10_000
        assert mailings.progress(mailing) == {"recipients": 10_000, "to_queue": 0, "waiting": 0, "sent": 10_000,
                                              "failed": 0, "dropped": 0}
        # No personal data is left in the outbox once sent.
        assert db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.mailing_id == mailing.id, OutboxMessage.payload.is_not(None))).scalar_one() == 0

    recipients = [to for to, _ in smtp.box.received]
    assert len(recipients) == 10_000 and set(recipients) == kinds["eligible"]  # each exactly once
    assert len({message_id for _, message_id in smtp.box.received}) == 10_000
    for kind in SKIPPED_KINDS:
        assert kinds[kind] and not kinds[kind] & set(recipients), kind
    # Memory is flat: the passes that send the last 400 need no more than those that sent the first 400 (which also
    # warmed every cache), and keep next to nothing once done.
    assert last_peak < 2 * first_peak, (first_peak, last_peak)
    assert last_held < 2_000_000, (first_held, last_held)


# -- crashes ------------------------------------------------------------------------------------------------------

def test_a_crash_inside_a_pass_queues_nothing_and_the_next_pass_resumes_without_a_duplicate(
        make_app, server, monkeypatch):
    smtp = server(box=CompactMailbox())
    app = _app(make_app, smtp, MAIL_BATCH_SIZE=20)
    with app.app_context():
        campaign = _campaign()
        kinds = _bulk(campaign, 150)
        mailing = _mailing(campaign)
        _send(mailing)
        assert mailings.advance() == 20 and mailer.send_due() == 20

        real_message_id, calls = mailer.new_message_id, []

        def crash_on_the_tenth():
            calls.append(1)
            if len(calls) == 10:
                raise MemoryError("the worker dies in the middle of a batch")
            return real_message_id()

        monkeypatch.setattr(mailer, "new_message_id", crash_on_the_tenth)
        with pytest.raises(MemoryError):
            mailings.advance()
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(Mailing, mailing.id).last_signature_id == _nth_eligible_id(campaign, 20)
        assert db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage)).scalar_one() == 20
        monkeypatch.setattr(mailer, "new_message_id", real_message_id)
        _drain()

    recipients = [to for to, _ in smtp.box.received]
    assert sorted(recipients) == sorted(kinds["eligible"])
    assert len({message_id for _, message_id in smtp.box.received}) == 150


def _nth_eligible_id(campaign: Campaign, n: int) -> int:
    return db.session.execute(sa.select(Signature.id).where(*mailings.eligible(campaign.id))
                              .order_by(Signature.id).offset(n - 1).limit(1)).scalar_one()


WORKER = """
import sys
from petition_app import create_app, mailer, mailings
app = create_app({"INSTANCE_PATH": sys.argv[1]})
with app.app_context():
    while mailings.advance() + mailer.send_due():
        pass
"""


def test_a_worker_killed_in_the_middle_resumes_and_every_signer_sees_one_mail(make_app, server, tmp_path):
    smtp = server(box=KillingMailbox())
    app = _app(make_app, smtp, MAIL_BATCH_SIZE=25)
    with app.app_context():
        campaign = _campaign()
        kinds = _bulk(campaign, 300)
        mailing = _mailing(campaign)
        _send(mailing)
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "SECRET_KEY": app.config["SECRET_KEY"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
               "PUBLIC_URL": app.config["PUBLIC_URL"], "MAIL_BATCH_SIZE": "25", "MAIL_RATE_PER_MINUTE": "100000"}
        worker = subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path / "worker-instance")], cwd=ROOT,
                                  env=env)
        smtp.box.kill_at, smtp.box.victim = 137, worker.pid
        assert worker.wait(timeout=300) == -signal.SIGKILL
        assert len(smtp.box.received) == 137
        db.session.expire_all()
        assert db.session.get(Mailing, mailing.id).status == MailingStatus.SENDING
        # The killed worker's lease runs out:
        db.session.execute(sa.update(OutboxMessage).values(
            claimed_until=datetime.now(timezone.utc) - timedelta(seconds=1),
            next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        db.session.commit()
        _drain()
        assert db.session.get(Mailing, mailing.id).status == MailingStatus.DONE

    by_recipient: dict[str, set[str]] = {}
    for to, message_id in smtp.box.received:
        by_recipient.setdefault(to, set()).add(message_id)
    assert set(by_recipient) == kinds["eligible"]
    # One Message-ID each: the one mail in flight when the worker died went again with the same ID (shown once).
    assert all(len(ids) == 1 for ids in by_recipient.values())
    assert len(smtp.box.received) <= 301


# -- throttle, pause, cancel ---------------------------------------------------------------------------------------

def test_the_rate_per_minute_is_kept(make_app, server):
    smtp = server()
    app = _app(make_app, smtp, MAIL_RATE_PER_MINUTE=30, MAIL_BATCH_SIZE=20)
    with app.app_context():
        campaign = _campaign()
        _bulk(campaign, 70)
        _send(_mailing(campaign))
        start = datetime.now(timezone.utc)
        assert mailings.advance(start) == 20
        mailer.send_due()
        assert mailings.advance(start + timedelta(seconds=10)) == 10  # 30 in this minute
        mailer.send_due()
        assert mailings.advance(start + timedelta(seconds=50)) == 0
        assert mailings.advance(start + timedelta(seconds=61)) == 20  # a new minute
        mailer.send_due()
        assert len(smtp.box.envelopes) == 50


def test_no_more_is_queued_while_two_batches_wait_in_the_outbox(make_app, server):
    smtp = server()
    app = _app(make_app, smtp, MAIL_BATCH_SIZE=10)
    with app.app_context():
        campaign = _campaign()
        _bulk(campaign, 50)
        _send(_mailing(campaign))
        assert mailings.advance() == 10
        assert mailings.advance() == 10
        assert mailings.advance() == 0  # the mail server is slow or down: the queue does not grow
        mailer.send_due()
        assert mailings.advance() == 10


def test_pause_stops_queueing_and_cancel_drops_what_waits(make_app, server):
    smtp = server()
    app = _app(make_app, smtp, MAIL_BATCH_SIZE=10)
    with app.app_context():
        campaign = _campaign()
        _bulk(campaign, 40)
        mailing = _mailing(campaign)
        _send(mailing)
        assert mailings.advance() == 10
        mailings.change_status(mailing, campaign, MailingStatus.PAUSED)
        db.session.commit()
        assert mailings.advance() == 0
        mailings.change_status(mailing, campaign, MailingStatus.SENDING)  # resume
        db.session.commit()
        assert mailings.advance() == 10
        mailings.change_status(mailing, campaign, MailingStatus.CANCELLED)
        db.session.commit()
        assert mailings.advance() == 0
        assert mailer.send_due() == 0
        assert smtp.box.envelopes == []
        assert mailings.progress(mailing)["dropped"] == 20
        assert db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.payload.is_not(None))).scalar_one() == 0
        with pytest.raises(mailings.MailingError):
            mailings.change_status(mailing, campaign, MailingStatus.SENDING)


def test_signers_who_come_after_sending_started_are_not_mailed(make_app, server):
    smtp = server(box=CompactMailbox())
    app = _app(make_app, smtp)
    with app.app_context():
        campaign = _campaign()
        first = _bulk(campaign, 10, prefix="early")
        _send(_mailing(campaign))
        _bulk(campaign, 5, prefix="late")
        _drain()
    assert {to for to, _ in smtp.box.received} == first["eligible"]


# -- the mail itself -----------------------------------------------------------------------------------------------

def test_each_signer_gets_their_language_with_one_click_unsubscribe_that_works(make_app, server):
    smtp = server()
    app = _app(make_app, smtp)
    with app.app_context():
        campaign = _campaign()
        kinds = _bulk(campaign, 4)
        _send(_mailing(campaign))
        _drain()
        by_to = {str(m["To"]): m for m in _parsed(smtp)}
        assert set(by_to) == kinds["eligible"]
        signatures = {s.email: s for s in db.session.execute(
            sa.select(Signature).where(Signature.campaign_id == campaign.id)).scalars()}
        for address, mail in by_to.items():
            if signatures[address].language == "ru":
                assert mail["Subject"] == "Хорошие новости"
                assert "Мы **передали** петицию." in text_part(mail)
                assert "<strong>передали</strong>" in html_part(mail)
            else:
                assert mail["Subject"] == "Good news"
                assert "<strong>delivered</strong>" in html_part(mail)
                assert "<script>" not in html_part(mail)
            assert mail["From"] == app.config["MAIL_DEFAULT_SENDER"]
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        raw = smtp.box.envelopes[0].content
        url = re.search(rb"\r\nList-Unsubscribe: <(http://localhost/s/unsubscribe/[A-Za-z0-9_-]+)>\r\n", raw)
        assert url, raw[:2000]
        unsubscribed = str(email.message_from_bytes(raw, policy=email.policy.default)["To"])
        assert url.group(1).decode() in text_part(_parsed(smtp)[0])

        # RFC 8058: the mail provider posts, without cookies or a CSRF token.
        client = app.test_client()
        path = url.group(1).decode().removeprefix("http://localhost")
        assert client.get(path).status_code == 200  # the page for people who open the link
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        db.session.expire_all()
        assert signatures[unsubscribed].consent_email is False

        smtp.box.envelopes.clear()
        _send(_mailing(campaign))
        _drain()
        assert {str(m["To"]) for m in _parsed(smtp)} == kinds["eligible"] - {unsubscribed}


def test_a_signer_who_unsubscribes_after_queueing_gets_nothing(make_app, server):
    smtp = server()
    app = _app(make_app, smtp)
    with app.app_context():
        campaign = _campaign()
        _bulk(campaign, 3)
        _send(_mailing(campaign))
        assert mailings.advance() == 3
        first = db.session.execute(sa.select(Signature).where(*mailings.eligible(campaign.id))
                                   .order_by(Signature.id)).scalars().first()
        first.consent_email = False
        db.session.commit()
        mailer.send_due()
        assert first.email not in {str(m["To"]) for m in _parsed(smtp)}
        assert len(smtp.box.envelopes) == 2


def test_queued_messages_hold_no_personal_data_until_the_worker_renders_them(make_app, server):
    """The outbox rows of a mailing name nobody while they wait: the address and name are read at send time."""
    smtp = server()
    app = _app(make_app, smtp)
    with app.app_context():
        campaign = _campaign()
        kinds = _bulk(campaign, 5)
        _send(_mailing(campaign))
        assert mailings.advance() == 5
        queued = db.session.execute(sa.select(OutboxMessage)).scalars().all()
        assert len(queued) == 5 and all(m.status == OutboxStatus.QUEUED for m in queued)
        assert [mailer.open_payload(m) for m in queued] == [{}] * 5  # decrypted: no address, no name
        names = db.session.execute(sa.select(Signature.first_name)).scalars().all()
        for message in queued:
            assert not any(address.encode() in bytes(message.payload) for address in kinds["eligible"])
            assert not any(name.encode() in bytes(message.payload) for name in names)
        mailer.send_due()
    assert sorted(str(m["To"]) for m in _parsed(smtp)) == sorted(kinds["eligible"])


def test_names_are_escaped_in_the_html_and_plain_in_the_text(make_app, server):
    smtp = server()
    app = _app(make_app, smtp)
    with app.app_context():
        campaign = _campaign()
        _bulk(campaign, 1)
        signature = db.session.execute(sa.select(Signature)).scalars().first()
        signature.first_name = "<b>Ann & Co</b>"
        signature.language = "en"
        db.session.commit()
        _send(_mailing(campaign))
        _drain()
        [mail] = _parsed(smtp)
        assert "Hello &lt;b&gt;Ann &amp; Co&lt;/b&gt;," in html_part(mail)
        assert "Hello <b>Ann & Co</b>," in text_part(mail)
        assert "\x00" not in html_part(mail) + text_part(mail)


def test_discreet_campaigns_get_a_neutral_sender_and_subject(make_app, server):
    smtp = server()
    app = _app(make_app, smtp, DISCREET_SENDER_NAME="Notifications")
    with app.app_context():
        campaign = _campaign(discreet_mail=True, title="Queer pride march")
        _bulk(campaign, 1)
        _send(_mailing(campaign, en=("March route announced", "The route is set.")))
        _drain()
        [mail] = _parsed(smtp)
        assert mail["From"].startswith("Notifications <")
        assert "pride" not in mail["Subject"].lower() and "march" not in mail["Subject"].lower()
        assert "March route announced" in text_part(mail)


def test_a_sealed_organisation_cannot_send_from_the_server(make_app, server):
    from petition_app.sealing import generate_keypair

    smtp = server()
    app = _app(make_app, smtp)
    with app.app_context():
        org = Organisation(slug="sealed", name="Sealed Org", public_key=generate_keypair()[0])
        campaign = _campaign(org=org)
        mailing = _mailing(campaign)
        with pytest.raises(mailings.MailingError):
            mailings.change_status(mailing, campaign, MailingStatus.SENDING)
        db.session.rollback()
        assert db.session.get(Mailing, mailing.id).status == MailingStatus.DRAFT


def test_a_mailing_needs_the_campaigns_language_and_whole_versions(app):
    campaign = _campaign()
    for texts in ({"ru": ("Тема", "Текст")}, {"en": ("Subject", "")}, {"en": ("S", "B"), "de": ("S", "B")},
                  {"en": ("x" * 201, "B")}):
        with pytest.raises(mailings.MailingError):
            mailings.create(campaign, texts)
        db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Mailing)).scalar_one() == 0


def test_the_worker_once_command_sends_a_batch_of_the_mailing(make_app, server):
    smtp = server()
    app = _app(make_app, smtp)
    with app.app_context():
        campaign = _campaign()
        _bulk(campaign, 3)
        _send(_mailing(campaign))
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert len(smtp.box.envelopes) == 3
        assert mailer.outbox_state(campaign.id)["sent"] == 3

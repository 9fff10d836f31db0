"""The mail worker under faults, against a real SMTP server: poison messages, international addresses, crashes
between delivery and its record, raw List-Unsubscribe bytes, logs, coarse times, and mail rendered by the worker."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from petition_app import mailer
from petition_app.extensions import db
from petition_app.models import OutboxMessage, OutboxStatus, Signature, Token
from petition_app.signing.service import SignatureInput, sign
from tests.conftest import ROOT, sign_data
from tests.mailbox import Mailbox, SMTPServer, link, text_part
from tests.test_mail import _campaign


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def _by_recipient() -> dict[str, OutboxMessage]:
    return {mailer.recipient(m): m for m in _outbox()}


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


# -- one message never stops the queue ------------------------------------------------------------------------------

def test_the_sign_form_accepts_an_international_address(make_app, server):
    smtp = server(smtputf8=True)
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        _campaign()
        client = app.test_client()
        response = client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme", email="анна@example.org"))
        assert response.status_code == 303
        [queued] = _outbox()
        assert mailer.recipient(queued) == "анна@example.org"
        mailer.send_due()
    [envelope] = smtp.box.envelopes
    assert envelope.rcpt_tos == ["анна@example.org"]
    assert "To: анна@example.org\r\n".encode() in envelope.content  # SMTPUTF8: the header in UTF-8, not encoded


def test_the_start_form_accepts_an_international_address_and_its_mail_arrives(make_app, server):
    from tests.conftest import make_org
    from tests.test_starter import propose

    smtp = server(smtputf8=True)
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        make_org("host", "Host Organisation")
        assert propose(app.test_client(), email="мила@пример.рф").status_code == 303
        [row] = _raw("SELECT payload FROM outbox")  # a starter's mail too is stored encrypted
        assert "мила".encode() not in bytes(row["payload"]) and b"/start/confirm/" not in bytes(row["payload"])
        mailer.send_due()
    [envelope] = smtp.box.envelopes
    assert envelope.rcpt_tos == ["мила@xn--e1afmkfd.xn--p1ai"]  # the domain in ASCII, the local part in UTF-8
    assert b"/start/confirm/" in envelope.content


@pytest.mark.parametrize("smtputf8", [True, False], ids=["server-offers-SMTPUTF8", "server-without-SMTPUTF8"])
def test_an_international_address_in_the_middle_of_a_batch_never_stops_the_queue(make_app, server, smtputf8):
    smtp = server(smtputf8=smtputf8)
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_BATCH_SIZE=50)
    before = [f"p{i}@example.org" for i in range(5)]
    after = [f"q{i}@example.org" for i in range(5)]
    with app.app_context():
        campaign = _campaign()
        for address in [*before, "анна@example.org", *after]:
            sign(campaign, SignatureInput("Anna", "Ivanova", address, "DE"))
        assert mailer.send_batch("w1") == 11  # one pass
        assert mailer.send_due() == 0  # nothing left over, nothing to retry
        delivered = sorted(to for e in smtp.box.envelopes for to in e.rcpt_tos)
        messages = _by_recipient()
        if smtputf8:
            assert delivered == sorted([*before, *after, "анна@example.org"])
            assert {m.status for m in _outbox()} == {OutboxStatus.SENT}
        else:
            assert delivered == sorted([*before, *after])  # every other message delivered, once
            [poison] = [m for m in _outbox() if m.status != OutboxStatus.SENT]
            assert poison.status == OutboxStatus.FAILED and poison.attempts == 1  # failed for good, not retried
            assert "SMTPUTF8" in poison.last_error and "анна" not in poison.last_error
            assert mailer.recipient(poison) == "анна@example.org"  # kept, for an admin to retry elsewhere
            assert set(messages) == {None, "анна@example.org"}  # only the failed one still holds an address


def test_a_message_the_worker_cannot_open_fails_alone(make_app, server):
    smtp = server()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        campaign = _campaign()
        for i in range(3):
            sign(campaign, SignatureInput("Anna", "Ivanova", f"p{i}@example.org", "DE"))
        middle = _outbox()[1]
        middle.payload = SecretBox(random_bytes(32)).encrypt(b'{"to": "x@example.org"}')  # sealed under another key
        db.session.commit()
        assert mailer.send_batch("w1") == 3
        assert sorted(to for e in smtp.box.envelopes for to in e.rcpt_tos) == ["p0@example.org", "p2@example.org"]
        statuses = [m.status for m in _outbox()]
        assert statuses == [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SENT]
        assert "cannot decrypt" in _outbox()[1].last_error


class RefusingMailbox(Mailbox):
    """Answers 450 (try later) for the addresses in `later`."""

    later: set[str] = {"later@example.org"}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's hook)
        if address in self.later:
            return "450 4.2.0 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_worker_logs_each_failure_each_retry_and_a_summary_never_an_address(make_app, server, caplog):
    smtp = server(box=RefusingMailbox())
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    people = {"ok@example.org": "Quorinda", "later@example.org": "Veltramo", "мила@example.org": "Zhorvenka"}
    with app.app_context():
        campaign = _campaign()
        for address, name in people.items():
            sign(campaign, SignatureInput(name, "Ivanova", address, "DE"))
        with caplog.at_level(logging.INFO, logger="petition_app.mailer"):
            mailer.send_due()
        by_address = _by_recipient()
        ids = {address: message.id for address, message in by_address.items() if address}
    lines = [r.getMessage() for r in caplog.records if r.name == "petition_app.mailer"]
    assert "mail pass: 1 sent, 1 to retry, 1 failed, 0 dropped" in lines
    assert any(line.startswith(f"mail {ids['later@example.org']} attempt 1 failed (SMTPRecipientsRefused); retry at")
               for line in lines)
    assert f"mail {ids['мила@example.org']} failed for good at attempt 1: SMTPNotSupportedError" in lines
    logged = "\n".join(lines) + "\n".join(str(r.args) for r in caplog.records)
    for address, name in people.items():
        for secret in (address, address.split("@")[0], name):
            assert secret not in logged
    assert "later@example.org" not in by_address["later@example.org"].last_error


# -- at least once, made explicit ---------------------------------------------------------------------------------

class KillingMailbox(Mailbox):
    """Stores the mail, then kills the sending worker before it hears "250": delivered, but never recorded."""

    victim: int | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
        return "250 OK"


WORKER = """
import sys
from petition_app import create_app, mailer
app = create_app({"INSTANCE_PATH": sys.argv[1]})
with app.app_context():
    mailer.send_due()
"""


def test_a_mail_delivered_again_after_a_crash_carries_the_same_message_id(make_app, server, tmp_path):
    smtp = server(box=KillingMailbox())
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=10)
    with app.app_context():
        sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        [queued] = _outbox()
        stored_id = queued.message_id  # fixed when queued, before any attempt
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "SECRET_KEY": app.config["SECRET_KEY"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
               "PUBLIC_URL": app.config["PUBLIC_URL"]}
        worker = subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path / "worker-instance")], cwd=ROOT, env=env)
        smtp.box.victim = worker.pid
        assert worker.wait(timeout=120) == -signal.SIGKILL
        assert len(smtp.box.envelopes) == 1

        [crashed] = _outbox()
        assert crashed.status == OutboxStatus.QUEUED and crashed.attempts == 1  # the attempt was recorded first
        assert crashed.message_id == stored_id and crashed.claimed_by
        # The crashed worker's lease runs out and the recorded retry time comes:
        db.session.execute(sa.update(OutboxMessage).values(
            claimed_until=datetime.now(timezone.utc) - timedelta(seconds=1),
            next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        db.session.commit()
        assert mailer.send_due() == 1
        [sent] = _outbox()
        assert sent.status == OutboxStatus.SENT and sent.attempts == 2

    first, second = smtp.box.envelopes
    for envelope in (first, second):
        assert re.search(rb"\r\nMessage-ID: " + re.escape(stored_id.encode()) + rb"\r\n", envelope.content)
    # Same mail, same links: the retry sends what the first attempt rendered (one set of tokens).
    assert text_part(smtp.box.messages[0]) == text_part(smtp.box.messages[1])
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Token)).scalar_one() == 3


# -- List-Unsubscribe on the wire ---------------------------------------------------------------------------------

LONG_PUBLIC_URL = "https://petitions.example.org/an/installation/under/a/rather/long/path/prefix"


def test_list_unsubscribe_is_a_plain_url_on_the_wire_in_every_signer_mail(make_app, server):
    smtp = server()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, PUBLIC_URL=LONG_PUBLIC_URL)
    with app.app_context():
        campaign = _campaign(title="Остановите запрет: очень длинное название кампании, чтобы заголовок переносился")
        data = SignatureInput("Анна", "Иванова", "anna@example.org", "DE", language="ru")
        sign(campaign, data)
        db.session.execute(sa.update(Signature).values(notified_at=datetime.now(timezone.utc) - timedelta(days=2)))
        db.session.commit()
        sign(campaign, data)  # the "already signed" mail
        mailer.send_due()
    assert len(smtp.box.envelopes) == 2
    for envelope in smtp.box.envelopes:
        raw = envelope.content
        match = re.search(rb"\r\nList-Unsubscribe: <(https://[!-~]+)>\r\n(?=[A-Za-z-]+: )", raw)
        assert match, raw[:2000]
        url = match.group(1).decode("ascii")
        assert url.startswith(LONG_PUBLIC_URL + "/s/unsubscribe/") and len(url) > 78
        assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
        assert b"=?utf-8?" not in raw.split(b"\r\nList-Unsubscribe: ", 1)[1].split(b"\r\n", 1)[0]
        assert raw.count(b"\r\nList-Unsubscribe: ") == 1
        assert url == link(text_part(email.message_from_bytes(raw, policy=email.policy.default)), "unsubscribe")


# -- coarse times -------------------------------------------------------------------------------------------------

def _instant(value) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite keeps UTC without the offset


def _raw(sql: str) -> list[dict]:
    db.session.expire_all()
    return [dict(row) for row in db.session.execute(sa.text(sql)).mappings()]


def _assert_coarse(rows: list[dict], precision: str) -> int:
    checked = 0
    for row in rows:
        for column, value in row.items():
            moment = _instant(value)
            if moment is None:
                continue
            fine = (moment.minute, moment.second, moment.microsecond)
            assert fine == (0, 0, 0), f"{column} = {value} is finer than the {precision}"
            if precision == "day":
                assert moment.hour == 0, f"{column} = {value} is finer than the day"
            checked += 1
    return checked


@pytest.mark.parametrize("precision", ["hour", "day"])
def test_every_stored_time_linked_to_a_signer_is_as_coarse_as_the_signature(make_app, precision):
    down = SMTPServer()  # not started yet: the first attempt fails
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=down.port, MAIL_TIMEOUT=2, SIGNATURE_TIME_PRECISION=precision)
    outbox_times = "SELECT created_at, next_attempt_at, attempted_at, claimed_until, sent_at FROM outbox"
    with app.app_context():
        sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        assert _assert_coarse(_raw(outbox_times), precision) == 2
        assert _assert_coarse(_raw("SELECT notified_at, created_at FROM signatures"), precision) == 2

        assert len(mailer.claim("w1", 10)) == 1
        [claimed] = _raw("SELECT claimed_until FROM outbox")
        assert claimed["claimed_until"] is not None and _assert_coarse([claimed], precision) == 1
        db.session.execute(sa.update(OutboxMessage).values(claimed_until=None, claimed_by=None))
        db.session.commit()

        assert mailer.send_due() == 1  # connection refused: the attempt and the retry time are recorded
        [failed] = _raw(outbox_times)
        assert failed["attempted_at"] is not None and _instant(failed["next_attempt_at"]) > datetime.now(timezone.utc)
        assert _assert_coarse([failed], precision) == 3
        assert _assert_coarse(_raw("SELECT created_at, expires_at FROM tokens"), precision) == 6

        down.start()
        try:
            db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
            db.session.commit()
            assert mailer.send_due() == 1
        finally:
            down.stop()
        [sent] = _raw("SELECT status, signature_id, payload, sent_at, created_at, attempted_at FROM outbox")
        assert (sent.pop("status"), sent.pop("signature_id"), sent.pop("payload")) == ("sent", None, None)
        assert _assert_coarse([sent], precision) == 3
    assert len(down.box.envelopes) == 1


# -- rendered by the worker ----------------------------------------------------------------------------------------

def test_the_sign_request_queues_only_refs_and_the_encrypted_address_and_name(make_app, server):
    smtp = server()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        campaign = _campaign(discreet_mail=True)
        client = app.test_client()
        client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme", first_name="Quorinda",
                                                              email="quorinda@example.org"))
        [row] = _raw("SELECT * FROM outbox")
        signature = db.session.execute(sa.select(Signature)).scalar_one()
        assert (row["kind"], row["language"], row["campaign_id"], row["signature_id"]) == (
            "confirm", "en", campaign.id, signature.id)
        assert row["discreet"] in (1, True)
        payload = bytes(row["payload"])
        assert b"quorinda" not in payload.lower() and b"Stop the ban" not in payload
        assert mailer.open_payload(_outbox()[0]) == {"to": "quorinda@example.org", "first_name": "Quorinda"}
        assert db.session.execute(sa.select(Token)).scalars().all() == []  # links are issued by the worker
        mailer.send_due()
        assert len(db.session.execute(sa.select(Token)).scalars().all()) == 3
    [message] = smtp.box.messages
    assert message["Subject"] == "Please confirm your email address"  # discreet, rendered by the worker
    assert "Hello Quorinda," in text_part(message) and "/s/confirm/" in text_part(message)


def test_a_signature_gone_before_its_mail_is_sent_gets_no_mail(make_app, server):
    smtp = server()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        campaign = _campaign()
        sign(campaign, SignatureInput("Anna", "Ivanova", "gone@example.org", "DE"))
        sign(campaign, SignatureInput("Boris", "Petrov", "stays@example.org", "DE"))
        # Deleted without the outbox being told (as a database cascade would): the worker finds no signature.
        db.session.execute(sa.delete(Signature).where(Signature.email == "gone@example.org"))
        db.session.commit()
        assert mailer.send_due() == 2
        dropped, sent = _outbox()
        assert (dropped.status, dropped.payload) == (OutboxStatus.CANCELLED, None)
        assert sent.status == OutboxStatus.SENT
        assert db.session.execute(sa.select(sa.func.count()).select_from(Token)).scalar_one() == 3  # the remaining signer's links only
    assert [e.rcpt_tos for e in smtp.box.envelopes] == [["stays@example.org"]]


# -- upgrading keeps queued mail, encrypted ---------------------------------------------------------------------

def test_upgrade_encrypts_mail_that_was_queued_in_plaintext(app_config, tmp_path, server):
    from flask_migrate import upgrade

    from petition_app import create_app

    smtp = server()
    path = tmp_path / "upgraded.sqlite3"
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{path}", "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": smtp.port})
    with app.app_context():
        upgrade(revision="52cf1abd8f4b")  # the schema before the outbox was encrypted
        db.session.execute(sa.text(
            "INSERT INTO outbox (kind, status, message_id, language, sender, to_address, subject, text_body, html_body,"
            " headers, attempts, next_attempt_at, last_error, created_at) VALUES ('confirm', 'queued', '<m1@localhost>',"
            " 'en', 'Petitions <no-reply@localhost>', 'queued.before@example.org', 'Old subject', 'Old body', '',"
            " '{\"List-Unsubscribe\": \"<http://localhost/s/unsubscribe/x>\"}', 0, '2026-01-01 00:00:00', '',"
            " '2026-01-01 00:00:00')"))
        db.session.commit()
        db.session.remove()
        upgrade()
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("outbox")}
        assert {"to_address", "subject", "text_body", "html_body", "headers"}.isdisjoint(columns)
        [row] = _raw("SELECT payload FROM outbox")
        assert b"queued.before" not in bytes(row["payload"])
        assert mailer.send_due() == 1
        db.session.remove()
        db.engine.dispose()
    [envelope] = smtp.box.envelopes
    assert envelope.rcpt_tos == ["queued.before@example.org"]
    assert envelope.content.startswith(b"Subject: Old subject\r\n")
    assert b"\r\nList-Unsubscribe: <http://localhost/s/unsubscribe/x>\r\n" in envelope.content
    assert b"\r\nMessage-ID: <m1@localhost>\r\n" in envelope.content


def test_the_worker_command_prints_its_pass_summary(make_app, server, tmp_path):
    smtp = server()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port)}
    worker = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--once"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert "INFO petition_app.mailer: mail pass: 1 sent, 0 to retry, 0 failed, 0 dropped" in worker.stderr
    assert "anna" not in (worker.stdout + worker.stderr).lower()
    assert len(smtp.box.envelopes) == 1

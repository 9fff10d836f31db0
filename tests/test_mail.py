"""Confirmation mail through a real SMTP server: outbox, worker, links, retries, time-outs, parallel workers."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from petition_app import mailer
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Organisation, OutboxMessage, OutboxStatus, Signature, Token
from petition_app.signing.service import SignatureInput, purge_unconfirmed, sign
from tests.conftest import csrf_token, sign_data
from tests.mailbox import HangingServer, SMTPServer, html_part, link, text_part


@pytest.fixture
def mail_settings() -> dict:
    """``mail_app`` (tests/conftest.py) here retries a failed delivery after 60 s."""
    return {"MAIL_RETRY_BASE_SECONDS": 60}


def _campaign(**fields) -> Campaign:
    org = db.session.execute(sa.select(Organisation)).scalars().first() or Organisation(slug="org", name="Org")
    campaign = Campaign(slug=fields.pop("slug", "mailme"), title=fields.pop("title", "Stop the ban"), organisation=org,
                        status=CampaignStatus.OPEN, goal=100, **fields)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def _run_worker(app) -> str:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def _path(url: str) -> str:
    return urlsplit(url).path


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_confirmation_mail_arrives_with_both_parts_headers_and_links(mail_app, smtp):
    _campaign()
    client = mail_app.test_client()
    client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme", email="Anna@Example.org"))
    [queued] = _outbox()
    assert queued.status == OutboxStatus.QUEUED and mailer.recipient(queued) == "Anna@Example.org"
    assert "1 messages handled" in _run_worker(mail_app)

    [envelope] = smtp.box.envelopes
    assert envelope.rcpt_tos == ["Anna@example.org"]  # the domain in its ASCII form
    [message] = smtp.box.messages
    assert message["Subject"] == "Please confirm your signature: Stop the ban"
    assert message["Message-ID"] == queued.message_id
    assert message["Date"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith("<http://localhost/s/unsubscribe/")
    text, html = text_part(message), html_part(message)
    assert "Hello Anna," in text and "Hello Anna," in html
    for kind in ("confirm", "withdraw", "unsubscribe"):
        assert link(text, kind) in html

    [sent] = _outbox()
    assert sent.status == OutboxStatus.SENT and sent.sent_at is not None
    assert (sent.payload, sent.signature_id) == (None, None)


def test_confirm_link_needs_a_post_and_confirming_twice_is_harmless(mail_app, smtp):
    _campaign()
    client = mail_app.test_client()
    client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme"))
    _run_worker(mail_app)
    url = _path(link(text_part(smtp.box.messages[0]), "confirm"))

    page = client.get(url)
    assert page.status_code == 200 and "Confirm my signature" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(sa.select(Signature)).scalar_one().confirmed_at is None  # a GET confirms nothing

    token = csrf_token(client, url)
    done = client.post(url, data={"csrf_token": token})
    assert done.status_code == 200 and "Your signature is confirmed" in done.get_data(as_text=True)
    again = client.post(url, data={"csrf_token": token})
    assert again.status_code == 200
    db.session.expire_all()
    assert db.session.execute(sa.select(Signature)).scalar_one().confirmed_at is not None


def test_withdraw_link_deletes_the_signature_and_lowers_the_count(mail_app, smtp):
    campaign = _campaign()
    client = mail_app.test_client()
    client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme"))
    _run_worker(mail_app)
    url = _path(link(text_part(smtp.box.messages[0]), "withdraw"))
    assert "Remove my signature" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 200 and "removed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(sa.select(Signature)).scalars().all() == []
    assert db.session.execute(sa.select(Token)).scalars().all() == []
    assert db.session.get(Campaign, campaign.id).signature_count == 0
    assert client.get(url).status_code == 404  # the link is spent


def test_one_click_unsubscribe_works_without_cookies_or_csrf_token(mail_app, smtp):
    _campaign()
    client = mail_app.test_client()
    client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme", consent_email="y"))
    _run_worker(mail_app)
    target = smtp.box.messages[0]["List-Unsubscribe"].strip().strip("<>")
    fresh = mail_app.test_client()  # a mail client: no session, no token
    response = fresh.post(_path(target), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.execute(sa.select(Signature)).scalar_one().consent_email is False
    page = fresh.get(_path(target))
    assert "You are unsubscribed" in page.get_data(as_text=True)


def test_mail_is_in_the_signers_language(mail_app, smtp):
    _campaign()
    client = mail_app.test_client()
    client.get("/language/ru")
    client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme"))
    _run_worker(mail_app)
    message = smtp.box.messages[0]
    assert "Здравствуйте" in text_part(message) or "Привет" in text_part(message)


def test_links_of_another_purpose_or_expired_do_not_work(mail_app, smtp):
    _campaign()
    client = mail_app.test_client()
    client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme"))
    _run_worker(mail_app)
    text = text_part(smtp.box.messages[0])
    withdraw_token = link(text, "withdraw").rsplit("/", 1)[1]
    assert client.get(f"/s/confirm/{withdraw_token}").status_code == 404
    assert client.get("/s/confirm/" + "x" * 500).status_code == 404
    assert client.get("/s/confirm/%00%ff").status_code == 404
    db.session.execute(sa.update(Token).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    db.session.commit()
    response = client.get(_path(link(text, "confirm")))
    assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)


def test_tokens_are_stored_only_as_hashes(mail_app, smtp):
    _campaign()
    client = mail_app.test_client()
    client.post("/campaigns/mailme/sign", data=sign_data(client, "mailme"))
    _run_worker(mail_app)
    raw = link(text_part(smtp.box.messages[0]), "confirm").rsplit("/", 1)[1]
    hashes = db.session.execute(sa.select(Token.token_hash)).scalars().all()
    assert len(hashes) == 3 and raw not in hashes and all(len(h) == 64 for h in hashes)


def test_smtp_down_keeps_the_message_until_the_server_is_back(make_app):
    server = SMTPServer()  # not started: nothing listens on its port
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=2)
    with app.app_context():
        sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        assert "1 messages handled" in _run_worker(app)
        [message] = _outbox()
        assert message.status == OutboxStatus.QUEUED and message.attempts == 1
        assert mailer.recipient(message) == "anna@example.org" and "ConnectionRefused" in message.last_error
        assert message.next_attempt_at.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
        assert "0 messages handled" in _run_worker(app)  # not due yet: backoff

        server.start()
        try:
            db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=datetime.now(timezone.utc)))
            db.session.commit()
            assert "1 messages handled" in _run_worker(app)
            assert "0 messages handled" in _run_worker(app)
            assert len(server.box.envelopes) == 1
            [message] = _outbox()
            assert message.status == OutboxStatus.SENT and message.attempts == 2
        finally:
            server.stop()


def test_hanging_smtp_server_is_abandoned_after_the_timeout(make_app):
    hanging = HangingServer()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=hanging.port, MAIL_TIMEOUT=1)
    try:
        with app.app_context():
            sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
            started = time.monotonic()
            _run_worker(app)
            elapsed = time.monotonic() - started
            [message] = _outbox()
            assert message.status == OutboxStatus.QUEUED and "timed out" in message.last_error.lower()
            assert elapsed < 10
    finally:
        hanging.close()


def test_message_that_exhausts_its_attempts_is_kept_as_failed(make_app):
    server = SMTPServer()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_BASE_SECONDS=0)
    with app.app_context():
        sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        _run_worker(app)
        [message] = _outbox()
        assert message.status == OutboxStatus.FAILED and message.attempts == 3
        assert mailer.recipient(message) == "anna@example.org"  # kept for an admin to retry
        assert mailer.outbox_state() == {"queued": 0, "sent": 0, "failed": 1, "cancelled": 0}


def test_two_workers_in_parallel_deliver_each_message_once(make_app, smtp):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_BATCH_SIZE=5)
    with app.app_context():
        campaign = _campaign()
        for i in range(40):
            sign(campaign, SignatureInput("Anna", "Ivanova", f"p{i}@example.org", "DE"))
        ids = {m.message_id for m in _outbox()}
    errors = []

    def work(name):
        try:
            with app.app_context():
                mailer.send_due(name)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    delivered = [m["Message-ID"] for m in smtp.box.messages]
    assert len(delivered) == 40 and set(delivered) == ids
    with app.app_context():
        assert {m.status for m in _outbox()} == {OutboxStatus.SENT}


def test_without_mail_server_mails_are_written_as_eml_files(make_app, tmp_path):
    app = make_app(MAIL_SERVER="", MAIL_DIR=str(tmp_path / "mail"))
    with app.app_context():
        sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        _run_worker(app)
    [eml] = list((tmp_path / "mail").glob("*.eml"))
    content = eml.read_text()
    assert "anna@example.org" in content and "/s/confirm/" in content


def test_purge_deletes_old_unconfirmed_signatures_and_lowers_the_count(mail_app, smtp):
    campaign = _campaign(count_confirmed_only=False)
    for i in range(3):
        sign(campaign, SignatureInput("Anna", "Ivanova", f"p{i}@example.org", "DE"))
    old = datetime.now(timezone.utc) - timedelta(days=31)
    db.session.execute(sa.update(Signature).where(Signature.email != "p2@example.org").values(created_at=old))
    db.session.execute(sa.update(Signature).where(Signature.email == "p0@example.org").values(confirmed_at=old))
    db.session.commit()

    dry = mail_app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert "mailme: would delete 1 unconfirmed signatures older than 30 days" in dry.output
    assert len(db.session.execute(sa.select(Signature)).scalars().all()) == 3

    result = mail_app.test_cli_runner().invoke(args=["purge"])
    assert "mailme: deleted 1 unconfirmed" in result.output
    db.session.expire_all()
    assert sorted(s.email for s in db.session.execute(sa.select(Signature)).scalars()) == [
        "p0@example.org", "p2@example.org"]
    assert db.session.get(Campaign, campaign.id).signature_count == 2
    assert all(m.payload is None for m in _outbox() if m.signature_id is None)


def test_confirmed_only_campaign_counts_on_confirmation(mail_app, smtp):
    from petition_app.signing.service import confirm, withdraw

    campaign = _campaign(count_confirmed_only=True)
    sign(campaign, SignatureInput("Anna", "Ivanova", "a@example.org", "DE"))
    sign(campaign, SignatureInput("Boris", "Petrov", "b@example.org", "DE"))
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).signature_count == 0
    a, b = db.session.execute(sa.select(Signature).order_by(Signature.email)).scalars().all()
    confirm(a)
    confirm(a)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).signature_count == 1
    withdraw(db.session.get(Signature, b.id))  # unconfirmed: did not count
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).signature_count == 1
    assert purge_unconfirmed() == {}


def test_editors_queue_failed_mails_again_once_the_server_is_back(make_app):
    from petition_app.models import Membership, Role
    from tests.conftest import csrf_token, log_in, make_user

    server = SMTPServer()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_MAX_ATTEMPTS=1)
    with app.app_context():
        campaign = _campaign()
        sign(campaign, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        _run_worker(app)
        assert [m.status for m in _outbox()] == [OutboxStatus.FAILED]
        editor = make_user("editor@example.org")
        db.session.add(Membership(user_id=editor.id, organisation_id=campaign.organisation_id, role=Role.EDITOR))
        db.session.commit()
        campaign_id = campaign.id
    client = log_in(app, "editor@example.org")
    page = client.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Retry failed mails" in page
    server.start()
    try:
        response = client.post(f"/admin/campaigns/{campaign_id}/outbox/retry",
                               data={"csrf_token": csrf_token(client, f"/admin/campaigns/{campaign_id}")})
        assert response.status_code == 303
        with app.app_context():
            assert [m.status for m in _outbox()] == [OutboxStatus.QUEUED]
            _run_worker(app)
            assert [m.status for m in _outbox()] == [OutboxStatus.SENT]
        assert len(server.box.envelopes) == 1
    finally:
        server.stop()


def test_purge_deletes_old_mail_files_that_hold_addresses(make_app, tmp_path):
    import os

    app = make_app(MAIL_SERVER="", MAIL_DIR=str(tmp_path / "mail"))
    with app.app_context():
        sign(_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        _run_worker(app)
        sign(db.session.execute(sa.select(Campaign)).scalar_one(),
             SignatureInput("Boris", "Petrov", "boris@example.org", "DE"))
        _run_worker(app)
        old, recent = sorted((tmp_path / "mail").glob("*.eml"))
        os.utime(old, (time.time() - 31 * 86400,) * 2)
        dry = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
        assert "would delete 1 mail files older than 30 days" in dry.output and old.exists()
        app.test_cli_runner().invoke(args=["purge"])
        assert not old.exists() and recent.exists()

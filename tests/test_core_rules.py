"""The signer-data rules with several signers, several campaigns and every setting exercised.

Each test here pins a rule whose breakage an earlier suite (one signer, one campaign, the default settings) would
not have noticed: it asserts on the field under test and on its neighbours, and on the other signers' rows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from petition_app import mailer, privacy, sealing, tokens
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, OutboxMessage, OutboxStatus, Signature, Token
from petition_app.privacy import coarse_now, email_hash, normalise_email, signer_hash_key
from petition_app.signing import service
from petition_app.signing.service import Outcome, SignatureInput
from tests.conftest import at_the_same_moment, csrf_token, log_in, make_org, make_user
from tests.mailbox import Mailbox, SMTPServer


def person(first: str, email: str, country: str = "DE", **fields) -> SignatureInput:
    return SignatureInput(first, "Example", email, country, **fields)


def row(email: str, campaign: Campaign) -> Signature | None:
    db.session.expire_all()
    return db.session.execute(sa.select(Signature).where(
        Signature.campaign_id == campaign.id, Signature.email_hash == email_hash(email))).scalar_one_or_none()


def count_of(campaign: Campaign) -> int:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id).signature_count


def outbox(**where) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(db.session.execute(query).scalars())


def delivered(app, message: OutboxMessage) -> str:
    """The mail as the worker wrote it out (with no MAIL_SERVER, as .eml files): what the signer receives."""
    [eml] = Path(app.config["MAIL_DIR"]).glob(f"*-{message.id}-{message.kind}.eml")
    return eml.read_text()


def link(text: str, purpose: str) -> str:
    match = re.search(rf"http://localhost/s/{purpose}/([A-Za-z0-9_-]+)", text)
    assert match, f"no {purpose} link in the mail"
    return match.group(1)


def undeliverable(message_ids: list[int]) -> bool:
    """These mails will never go out and hold nothing personal any more (wiped and cancelled, or deleted)."""
    left = [m for m in outbox() if m.id in message_ids]
    return all(m.status != OutboxStatus.QUEUED and m.payload is None for m in left)


class Refusing(Mailbox):
    """A real SMTP server that takes every mail up to its end, then refuses it with `code`."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        return f"{self.code} not now"


@pytest.fixture
def refusing_smtp(app):
    """Point the app at a server that defers every mail (451): the worker renders each signer's mail, issues its
    links and keeps it queued, rendered, for a later attempt. `refusing_smtp("550")` refuses for good instead."""
    servers = []

    def start(code: str = "451") -> SMTPServer:
        server = SMTPServer(box=Refusing(code)).start()
        servers.append(server)
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=5)
        return server

    yield start
    for server in servers:
        server.stop()


# -- addresses and the keyed hash ---------------------------------------------------------------------------------


def test_normalising_keeps_the_domain_so_same_local_part_at_two_domains_are_two_people(app, make_campaign):
    assert normalise_email(" Anna@Example.ORG ") == "anna@example.org"
    assert normalise_email("anna@example.org") != normalise_email("anna@example.com")
    assert normalise_email("anna@bücher.de") == "anna@xn--bcher-kva.de"
    assert normalise_email("Ａｎｎａ@Example.org") == "anna@example.org"  # NFKC: full-width letters
    assert normalise_email("No-At-Sign") == "no-at-sign"
    assert email_hash("anna@example.org") != email_hash("anna@example.com")
    campaign = make_campaign(count_confirmed_only=False)
    assert service.sign(campaign, person("Anna", "anna@example.org")) is Outcome.SIGNED
    assert service.sign(campaign, person("Anna", "anna@example.com")) is Outcome.SIGNED
    assert service.sign(campaign, person("Anna", "ANNA@example.com")) is Outcome.DUPLICATE
    assert count_of(campaign) == 2


def test_a_configured_signer_hash_key_is_the_key_of_the_hash(make_app):
    address = "anna@example.org"
    expected = hmac.new(b"configured key", address.encode(), hashlib.sha256).hexdigest()
    keyed_a = make_app(SECRET_KEY="secret one", SIGNER_HASH_KEY="configured key")
    keyed_b = make_app(SECRET_KEY="secret two", SIGNER_HASH_KEY="configured key")
    derived_a = make_app(SECRET_KEY="secret one")
    derived_b = make_app(SECRET_KEY="secret two")
    hashes = {}
    for name, app in {"keyed_a": keyed_a, "keyed_b": keyed_b, "derived_a": derived_a, "derived_b": derived_b}.items():
        with app.app_context():
            hashes[name] = email_hash(" Anna@Example.org")
            if name.startswith("keyed"):
                assert signer_hash_key() == b"configured key"
    # The configured key alone decides: a new SECRET_KEY keeps recognising earlier signers.
    assert hashes["keyed_a"] == hashes["keyed_b"] == expected
    # Without one, the key derives from SECRET_KEY (and is not SECRET_KEY itself).
    assert hashes["derived_a"] != hashes["derived_b"]
    assert expected not in (hashes["derived_a"], hashes["derived_b"])
    assert hashes["derived_a"] != hmac.new(b"secret one", address.encode(), hashlib.sha256).hexdigest()
    with derived_a.app_context():
        derived_key = hmac.new(b"secret one", b"signer-hash-key", hashlib.sha256).digest()
        assert hashes["derived_a"] == hmac.new(derived_key, address.encode(), hashlib.sha256).hexdigest()


# -- coarse times -------------------------------------------------------------------------------------------------

EXACT = datetime(2026, 5, 17, 13, 45, 12, 345678, tzinfo=timezone.utc)


@pytest.mark.parametrize(("precision", "expected"), [
    ("day", datetime(2026, 5, 17, tzinfo=timezone.utc)),
    ("hour", datetime(2026, 5, 17, 13, tzinfo=timezone.utc)),
    ("minute", datetime(2026, 5, 17, 13, 45, tzinfo=timezone.utc)),
    ("second", datetime(2026, 5, 17, 13, 45, 12, tzinfo=timezone.utc)),
    ("bogus", datetime(2026, 5, 17, 13, tzinfo=timezone.utc)),
])
def test_each_configured_time_precision_is_applied(make_app, precision, expected):
    with make_app(SIGNATURE_TIME_PRECISION=precision).app_context():
        assert coarse_now(EXACT) == expected


def test_unset_precision_is_an_hour_and_signatures_carry_the_configured_precision(make_app):
    app = make_app(SIGNATURE_TIME_PRECISION="day")
    app.config.pop("SIGNATURE_TIME_PRECISION")
    with app.app_context():
        assert coarse_now(EXACT) == datetime(2026, 5, 17, 13, tzinfo=timezone.utc)
    app = make_app(SIGNATURE_TIME_PRECISION="day")
    with app.app_context():
        from petition_app.models import Organisation

        campaign = Campaign(slug="by-day", title="T", goal=10, status=CampaignStatus.OPEN, count_confirmed_only=False,
                            organisation=Organisation(slug="day-org", name="Day"))
        db.session.add(campaign)
        db.session.commit()
        service.sign(campaign, person("Anna", "anna@example.org"))
        signature = row("anna@example.org", campaign)
        service.confirm(signature)
        signature = row("anna@example.org", campaign)
        for stamp in (signature.created_at, signature.confirmed_at):
            assert (stamp.hour, stamp.minute, stamp.second, stamp.microsecond) == (0, 0, 0, 0)
            assert timedelta(0) <= datetime.now(timezone.utc) - stamp < timedelta(days=1)


# -- consent ------------------------------------------------------------------------------------------------------


def test_sms_consent_needs_both_a_phone_and_the_ticked_box(app, make_campaign):
    campaign = make_campaign(count_confirmed_only=False)
    service.sign(campaign, person("Phone", "phone@example.org", phone="+49 151 2345678", consent_email=True))
    service.sign(campaign, person("Ticked", "ticked@example.org", phone="+49 151 7654321", consent_sms=True))
    service.sign(campaign, person("Nophone", "nophone@example.org", consent_sms=True, consent_email=True))
    phone, ticked, nophone = (row(a, campaign) for a in ("phone@example.org", "ticked@example.org",
                                                          "nophone@example.org"))
    assert (phone.phone, phone.consent_sms, phone.consent_email) == ("+491512345678", False, True)
    assert (ticked.phone, ticked.consent_sms, ticked.consent_email) == ("+491517654321", True, False)
    assert (nophone.phone, nophone.consent_sms, nophone.consent_email) == (None, False, True)


def test_share_consent_counts_only_on_a_campaign_someone_started(app, make_campaign):
    started = make_campaign(started_by="A group", count_confirmed_only=False)
    own = make_campaign(count_confirmed_only=False)
    service.sign(started, person("Anna", "anna@example.org", consent_share=True))
    service.sign(own, person("Anna", "anna@example.org", consent_share=True))
    service.sign(started, person("Boris", "boris@example.org"))
    assert row("anna@example.org", started).consent_share is True
    assert row("anna@example.org", own).consent_share is False
    assert row("boris@example.org", started).consent_share is False


def test_unsubscribing_switches_both_consents_off_and_touches_nobody_else(app, make_campaign):
    campaign = make_campaign(count_confirmed_only=False)
    service.sign(campaign, person("Mail", "mail@example.org", consent_email=True))
    service.sign(campaign, person("Both", "both@example.org", phone="+4915112345678", consent_email=True,
                                  consent_sms=True))
    service.sign(campaign, person("Other", "other@example.org", phone="+4915187654321", consent_email=True,
                                  consent_sms=True))
    service.unsubscribe(row("mail@example.org", campaign))
    service.unsubscribe(row("both@example.org", campaign))
    assert (row("mail@example.org", campaign).consent_email, row("mail@example.org", campaign).consent_sms) == (
        False, False)
    assert (row("both@example.org", campaign).consent_email, row("both@example.org", campaign).consent_sms) == (
        False, False)
    other = row("other@example.org", campaign)
    assert (other.consent_email, other.consent_sms) == (True, True)


# -- counting -----------------------------------------------------------------------------------------------------


def test_confirming_counts_the_first_confirmation_only_per_signer(app, make_campaign):
    campaign = make_campaign(count_confirmed_only=True)
    neighbour = make_campaign(count_confirmed_only=True)
    for first in ("Anna", "Boris", "Chen"):
        service.sign(campaign, person(first, f"{first.lower()}@example.org"))
    service.sign(neighbour, person("Anna", "anna@example.org"))
    assert count_of(campaign) == 0
    service.confirm(row("anna@example.org", campaign))
    assert count_of(campaign) == 1
    service.confirm(row("anna@example.org", campaign))
    assert count_of(campaign) == 1
    service.confirm(row("boris@example.org", campaign))
    assert count_of(campaign) == 2
    service.confirm(row("boris@example.org", campaign))
    service.confirm(row("anna@example.org", campaign))
    assert count_of(campaign) == 2
    assert count_of(neighbour) == 0
    assert row("chen@example.org", campaign).confirmed_at is None
    assert row("anna@example.org", neighbour).confirmed_at is None


def test_confirming_on_a_campaign_that_counts_everyone_does_not_count_twice(app, make_campaign):
    campaign = make_campaign(count_confirmed_only=False)
    service.sign(campaign, person("Anna", "anna@example.org"))
    service.sign(campaign, person("Boris", "boris@example.org"))
    assert count_of(campaign) == 2
    service.confirm(row("anna@example.org", campaign))
    service.confirm(row("boris@example.org", campaign))
    assert count_of(campaign) == 2
    assert row("anna@example.org", campaign).confirmed_at is not None


def test_a_confirmation_link_confirms_and_counts_once_and_a_dead_link_changes_nothing(app, make_campaign):
    campaign = make_campaign(count_confirmed_only=True)
    everyone = make_campaign(count_confirmed_only=False)
    for first in ("Anna", "Boris"):
        service.sign(campaign, person(first, f"{first.lower()}@example.org"))
    service.sign(everyone, person("Anna", "anna@example.org"))
    anna, boris, anna_too = (row("anna@example.org", campaign), row("boris@example.org", campaign),
                             row("anna@example.org", everyone))
    link = tokens.issue(tokens.CONFIRM, 7, signature_id=anna.id)
    dead = [tokens.issue(tokens.CONFIRM, -1, signature_id=boris.id),  # expired
            tokens.issue(tokens.WITHDRAW, 7, signature_id=boris.id),  # another purpose
            "", "x" * 101, link[:-1]]
    other = tokens.issue(tokens.CONFIRM, 7, signature_id=anna_too.id)
    db.session.commit()
    found = service.confirm_link(link)
    assert found == service.LinkSigner(anna.id, campaign.id, "en")
    assert count_of(campaign) == 1
    assert service.confirm_link(link) == found  # again: the same answer, nothing counted twice
    for raw in dead:
        assert service.confirm_link(raw) is None
    assert count_of(campaign) == 1
    assert row("boris@example.org", campaign).confirmed_at is None
    assert row("anna@example.org", campaign).confirmed_at is not None
    assert service.confirm_link(other) == service.LinkSigner(anna_too.id, everyone.id, "en")
    assert count_of(everyone) == 1  # counted when signed, not again when confirmed
    assert row("anna@example.org", everyone).confirmed_at is not None


def test_confirmations_of_one_link_at_the_same_moment_count_once(make_app):
    app = make_app()
    with app.app_context():
        org = make_org("burst-org", "Burst")
        campaign = Campaign(slug="burst", title="T", organisation=org, status=CampaignStatus.OPEN, goal=10,
                            count_confirmed_only=True)
        db.session.add(campaign)
        db.session.commit()
        service.sign(campaign, person("Anna", "anna@example.org"))
        link = tokens.issue(tokens.CONFIRM, 7, signature_id=row("anna@example.org", campaign).id)
        db.session.commit()
    found = at_the_same_moment(app, 8, lambda: service.confirm_link(link))
    assert len(found) == 8 and None not in found
    with app.app_context():
        assert count_of(db.session.execute(sa.select(Campaign).where(Campaign.slug == "burst")).scalar_one()) == 1


def _age(campaign: Campaign, email: str, days: int) -> None:
    signature = row(email, campaign)
    signature.created_at = datetime.now(timezone.utc) - timedelta(days=days)
    db.session.commit()


def test_purging_stale_unconfirmed_signatures_debits_each_campaign_its_own_and_spares_confirmed_counts(
        app, make_campaign):
    everyone = make_campaign(slug="everyone", count_confirmed_only=False)
    confirmed_only = make_campaign(slug="confirmed-only", count_confirmed_only=True)
    untouched = make_campaign(slug="untouched", count_confirmed_only=False)
    for campaign, stale, fresh in ((everyone, 3, 2), (confirmed_only, 2, 1)):
        for i in range(stale):
            service.sign(campaign, person("Stale", f"stale{i}@example.org"))
            _age(campaign, f"stale{i}@example.org", 40)
        for i in range(fresh):
            service.sign(campaign, person("Fresh", f"fresh{i}@example.org"))
    service.confirm(row("fresh0@example.org", confirmed_only))
    old_confirmed = row("fresh0@example.org", everyone)
    service.confirm(old_confirmed)
    _age(everyone, "fresh0@example.org", 40)
    service.sign(untouched, person("Stale", "stale0@example.org"))
    assert (count_of(everyone), count_of(confirmed_only), count_of(untouched)) == (5, 1, 1)
    stale_mail = [m.id for m in outbox(signature_id=row("stale0@example.org", everyone).id)]
    assert len(stale_mail) == 1
    kept_mail = outbox(signature_id=row("fresh1@example.org", everyone).id)

    assert service.purge_unconfirmed(dry_run=True) == {"everyone": 3, "confirmed-only": 2}
    assert (count_of(everyone), count_of(confirmed_only)) == (5, 1)
    assert service.purge_unconfirmed() == {"everyone": 3, "confirmed-only": 2}
    assert (count_of(everyone), count_of(confirmed_only), count_of(untouched)) == (2, 1, 1)
    assert row("stale0@example.org", everyone) is None and row("stale1@example.org", confirmed_only) is None
    assert row("fresh0@example.org", everyone) is not None  # old but confirmed
    assert row("fresh1@example.org", everyone) is not None and row("stale0@example.org", untouched) is not None
    db.session.expire_all()
    assert undeliverable(stale_mail)
    assert [mailer.recipient(m) for m in kept_mail] == ["fresh1@example.org"]
    assert [m.status for m in kept_mail] == [OutboxStatus.QUEUED]
    assert service.purge_unconfirmed() == {}


def test_purge_respects_the_configured_and_the_given_retention(make_app):
    app = make_app(UNCONFIRMED_RETENTION_DAYS=10)
    with app.app_context():
        campaign = Campaign(slug="ret", title="T", goal=10, status=CampaignStatus.OPEN, count_confirmed_only=False,
                            organisation=make_org("ret-org"))
        db.session.add(campaign)
        db.session.commit()
        service.sign(campaign, person("A", "a@example.org"))
        service.sign(campaign, person("B", "b@example.org"))
        _age(campaign, "a@example.org", 12)
        _age(campaign, "b@example.org", 8)
        assert service.purge_unconfirmed(days=13) == {}
        assert service.purge_unconfirmed() == {"ret": 1}
        assert service.purge_unconfirmed(days=7) == {"ret": 1}
        assert count_of(campaign) == 0


def test_purge_deletes_expired_link_tokens_only(app, make_campaign):
    campaign = make_campaign(count_confirmed_only=False)
    service.sign(campaign, person("A", "a@example.org"))
    signature = row("a@example.org", campaign)
    assert mailer.send_due() == 1  # the worker issues the mail's confirm, withdraw and unsubscribe links
    live = db.session.execute(sa.select(sa.func.count()).select_from(Token)).scalar_one()
    tokens.issue(tokens.CONFIRM, -1, signature_id=signature.id)
    db.session.commit()
    service.purge_unconfirmed()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Token)).scalar_one() == live == 3


# -- withdrawing --------------------------------------------------------------------------------------------------


def _tokens_of(signature_id: int) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Token).where(
        Token.signature_id == signature_id)).scalar_one()


@pytest.mark.parametrize("confirmed_only", [False, True])
def test_withdrawing_one_signature_removes_its_data_and_mail_and_nobody_elses(app, make_campaign, refusing_smtp,
                                                                               confirmed_only):
    campaign = make_campaign(count_confirmed_only=confirmed_only)
    other_campaign = make_campaign(count_confirmed_only=confirmed_only)
    for first in ("Anna", "Boris"):
        service.sign(campaign, person(first, f"{first.lower()}@example.org", phone="+4915112345678"))
    service.sign(other_campaign, person("Anna", "anna@example.org"))
    service.sign(campaign, person("Chen", "chen@example.org"))  # unconfirmed: counts only when everyone counts
    # The server defers every mail: each is rendered with its three links and stays queued.
    refusing_smtp("451")
    assert mailer.send_due() == 4
    for email, signed in (("anna@example.org", campaign), ("boris@example.org", campaign),
                          ("anna@example.org", other_campaign)):
        service.confirm(row(email, signed))
    anna, boris = row("anna@example.org", campaign), row("boris@example.org", campaign)
    anna_elsewhere = row("anna@example.org", other_campaign)
    anna_id = anna.id
    anna_mail_ids = [m.id for m in outbox(signature_id=anna_id)]
    before = count_of(campaign)
    assert before == (2 if confirmed_only else 3)

    service.withdraw(anna)
    assert row("anna@example.org", campaign) is None
    assert db.session.get(Signature, anna_id) is None
    assert count_of(campaign) == before - 1
    assert count_of(other_campaign) == 1
    assert _tokens_of(anna_id) == 0
    assert len(anna_mail_ids) == 1 and undeliverable(anna_mail_ids)
    for neighbour in (boris, anna_elsewhere):
        assert _tokens_of(neighbour.id) == 3
        [mail] = outbox(signature_id=neighbour.id)
        assert mail.status == OutboxStatus.QUEUED and mailer.recipient(mail).endswith("@example.org")
        assert "/s/withdraw/" in mailer.open_payload(mail)["text"]
    assert row("boris@example.org", campaign).phone == "+4915112345678"

    service.withdraw(row("chen@example.org", campaign))
    assert count_of(campaign) == 1  # Boris; an unconfirmed signer leaves a confirmed-only count alone


def test_withdrawing_a_sent_mail_signature_wipes_the_sent_copy_too(app, make_campaign, refusing_smtp):
    campaign = make_campaign(count_confirmed_only=False)
    service.sign(campaign, person("Anna", "anna@example.org"))
    service.sign(campaign, person("Boris", "boris@example.org"))
    # Boris's mail goes out: the sent copy keeps neither the mail nor its link to his signature.
    [_, boris_mail] = outbox()
    assert mailer.send_due() == 2  # no MAIL_SERVER: written out as files
    db.session.expire_all()
    assert "boris@example.org" in delivered(app, boris_mail)
    assert (boris_mail.status, boris_mail.payload, boris_mail.signature_id) == (OutboxStatus.SENT, None, None)
    # Anna signs again; the server refuses her mail for good: the failed copy is kept, rendered, for a retry.
    assert service.sign(campaign, person("Anna", "anna@example.org")) is Outcome.DUPLICATE
    refusing_smtp("550")
    assert mailer.send_due() == 1
    [mail] = outbox(signature_id=row("anna@example.org", campaign).id)
    assert mail.status == OutboxStatus.FAILED
    assert mailer.recipient(mail) == "anna@example.org" and not undeliverable([mail.id])
    service.withdraw(row("anna@example.org", campaign))
    assert undeliverable([mail.id])


# -- links --------------------------------------------------------------------------------------------------------


def test_each_mailed_link_opens_only_its_own_page(app, make_campaign):
    campaign = make_campaign(slug="links", count_confirmed_only=False)
    service.sign(campaign, person("Anna", "anna@example.org", consent_email=True))
    [mail] = outbox()
    assert mailer.send_due() == 1  # no MAIL_SERVER: written out as a file
    text = delivered(app, mail)
    raw = {purpose: link(text, purpose) for purpose in ("confirm", "withdraw", "unsubscribe")}
    assert len(set(raw.values())) == 3
    client = app.test_client()
    for page in ("confirm", "withdraw", "unsubscribe"):
        for purpose, token in raw.items():
            response = client.get(f"/s/{page}/{token}")
            assert response.status_code == (200 if purpose == page else 404), (page, purpose)
    # Posting the withdraw page with the unsubscribe link's token removes nothing.
    form_token = csrf_token(client, f"/s/withdraw/{raw['withdraw']}")
    refused = client.post(f"/s/withdraw/{raw['unsubscribe']}", data={"csrf_token": form_token})
    assert refused.status_code == 404
    assert row("anna@example.org", campaign) is not None
    refused = client.post(f"/s/withdraw/{raw['confirm']}", data={"csrf_token": form_token})
    assert refused.status_code == 404 and row("anna@example.org", campaign) is not None
    assert client.post(f"/s/unsubscribe/{raw['withdraw']}").status_code == 404
    assert row("anna@example.org", campaign).consent_email is True
    assert client.post(f"/s/confirm/{raw['withdraw']}", data={"csrf_token": form_token}).status_code == 404
    assert row("anna@example.org", campaign).confirmed_at is None
    done = client.post(f"/s/withdraw/{raw['withdraw']}", data={"csrf_token": form_token})
    assert done.status_code == 200 and row("anna@example.org", campaign) is None


def test_tokens_are_refused_when_expired_unknown_oversized_or_of_another_purpose(app, make_campaign):
    campaign = make_campaign(count_confirmed_only=False)
    service.sign(campaign, person("Anna", "anna@example.org"))
    signature = row("anna@example.org", campaign)
    live = tokens.issue(tokens.WITHDRAW, 1, signature_id=signature.id)
    expired = tokens.issue(tokens.WITHDRAW, -1, signature_id=signature.id)
    db.session.commit()
    found = tokens.find(live, tokens.WITHDRAW)
    assert found is not None and found.signature_id == signature.id and found.purpose == tokens.WITHDRAW
    assert tokens.find(live, tokens.UNSUBSCRIBE) is None
    assert tokens.find(live, tokens.CONFIRM) is None
    assert tokens.find(expired, tokens.WITHDRAW) is None
    assert tokens.find(live[:-1], tokens.WITHDRAW) is None
    assert tokens.find("", tokens.WITHDRAW) is None
    assert tokens.find("x" * 101, tokens.WITHDRAW) is None
    stored = db.session.execute(sa.select(Token.token_hash)).scalars().all()
    assert live not in stored and hashlib.sha256(live.encode()).hexdigest() in stored
    # At most 100 characters are looked up (a raw token has 43): a longer one is refused without a query.
    for length, found in ((100, True), (101, False)):
        raw = "t" * length
        db.session.add(Token(token_hash=hashlib.sha256(raw.encode()).hexdigest(), purpose=tokens.WITHDRAW,
                             expires_at=datetime.now(timezone.utc) + timedelta(days=1), signature_id=signature.id))
        db.session.commit()
        assert (tokens.find(raw, tokens.WITHDRAW) is not None) is found, length
    assert tokens.delete_expired() == 1
    db.session.commit()
    assert tokens.find(live, tokens.WITHDRAW) is not None


# -- signing again ------------------------------------------------------------------------------------------------


def test_signing_again_finds_the_earlier_signature_of_this_campaign_among_several(app, make_campaign):
    first = make_campaign(slug="first", count_confirmed_only=False)
    second = make_campaign(slug="second", count_confirmed_only=False)
    for campaign in (first, second):
        assert service.sign(campaign, person("Anna", "anna@example.org")) is Outcome.SIGNED
    service.sign(first, person("Boris", "boris@example.org"))
    anna_first = row("anna@example.org", first)
    anna_first.notified_at = datetime.now(timezone.utc) - timedelta(days=2)  # due for an "already signed" mail
    db.session.commit()
    mails_first = len(outbox(signature_id=anna_first.id))
    mails_second = len(outbox(signature_id=row("anna@example.org", second).id))

    assert service.sign(first, person("Anna", "ANNA@example.org")) is Outcome.DUPLICATE
    assert (count_of(first), count_of(second)) == (2, 1)
    again = outbox(signature_id=anna_first.id)
    assert len(again) == mails_first + 1 and mailer.recipient(again[-1]).lower() == "anna@example.org"
    assert len(outbox(signature_id=row("anna@example.org", second).id)) == mails_second


def test_signing_again_through_the_page_answers_like_a_first_signature(app, make_campaign):
    make_campaign(slug="p1", count_confirmed_only=False)
    make_campaign(slug="p2", count_confirmed_only=False)
    client = app.test_client()
    data = {"first_name": "Anna", "last_name": "Example", "email": "anna@example.org", "country": "DE"}
    answers = []
    for slug in ("p1", "p2", "p1"):
        response = client.post(f"/campaigns/{slug}/sign", data={**data, "csrf_token": csrf_token(client, f"/campaigns/{slug}")})
        answers.append((response.status_code, response.headers.get("Location", "").rsplit("/campaigns/", 1)[-1]))
    assert answers == [(303, "p1/thanks"), (303, "p2/thanks"), (303, "p1/thanks")]


# -- erasure at the end of retention ------------------------------------------------------------------------------


def test_erasure_removes_names_email_phone_sealed_box_and_hash_of_long_closed_campaigns_only(app, make_campaign,
                                                                                                 refusing_smtp):
    public, _private = sealing.generate_keypair()
    sealed_org = make_org("sealed-org", public_key=public)
    old_plain = make_campaign(slug="old-plain", count_confirmed_only=False)
    old_sealed = make_campaign(slug="old-sealed", org=sealed_org, count_confirmed_only=False)
    recent = make_campaign(slug="recent", count_confirmed_only=False)
    still_open = make_campaign(slug="still-open", count_confirmed_only=False)
    for campaign in (old_plain, old_sealed, recent, still_open):
        service.sign(campaign, person("Anna", "anna@example.org", phone="+4915112345678", consent_sms=True,
                                      consent_email=True))
        service.sign(campaign, person("Boris", "boris@example.org", country="FR"))
    refusing_smtp("451")  # each mail is rendered, its links issued, and kept queued for a later attempt
    assert mailer.send_due() == 8
    service.confirm(row("anna@example.org", old_plain))
    for campaign, days in ((old_plain, 800), (old_sealed, 800), (recent, 100)):
        campaign.status = CampaignStatus.CLOSED
        db.session.commit()
        campaign.closed_at = datetime.now(timezone.utc) - timedelta(days=days)
    db.session.commit()
    assert row("anna@example.org", old_sealed).sealed is not None
    old_ids = {c.id: [s.id for s in db.session.execute(sa.select(Signature).where(Signature.campaign_id == c.id)
                                                       .order_by(Signature.id)).scalars()]
               for c in (old_plain, old_sealed)}
    for ids in old_ids.values():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Token).where(
            Token.signature_id.in_(ids))).scalar_one() == 6

    assert service.erase_closed(dry_run=True) == {"old-plain": 2, "old-sealed": 2}
    assert row("anna@example.org", old_plain) is not None
    assert service.erase_closed() == {"old-plain": 2, "old-sealed": 2}
    db.session.expire_all()
    for campaign in (old_plain, old_sealed):
        rows = db.session.execute(sa.select(Signature).where(Signature.campaign_id == campaign.id)
                                  .order_by(Signature.id)).scalars().all()
        assert [r.id for r in rows] == old_ids[campaign.id]
        assert [(r.first_name, r.last_name, r.email, r.phone, r.sealed, r.email_hash) for r in rows] == [
            ("", "", "", None, None, None)] * 2
        assert [r.country for r in rows] == ["DE", "FR"]
        assert [r.consent_sms for r in rows] == [True, False]
        assert count_of(campaign) == 2
        mails = outbox(campaign_id=campaign.id)
        assert len(mails) == 2 and all(m.payload is None and m.status == OutboxStatus.CANCELLED for m in mails)
        assert db.session.execute(sa.select(sa.func.count()).select_from(Token).where(
            Token.signature_id.in_(old_ids[campaign.id]))).scalar_one() == 0
    assert row("anna@example.org", old_plain) is None
    assert db.session.get(Signature, old_ids[old_plain.id][0]).confirmed_at is not None
    for campaign in (recent, still_open):
        anna = row("anna@example.org", campaign)
        assert (anna.first_name, anna.email, anna.phone) == ("Anna", "anna@example.org", "+4915112345678")
        mails = outbox(campaign_id=campaign.id)
        assert len(mails) == 2 and all(mailer.recipient(m) for m in mails)
    assert service.erase_closed(months=1) == {"recent": 2}
    assert service.erase_closed() == {}


# -- the admin dashboard ------------------------------------------------------------------------------------------


def test_a_members_dashboard_lists_only_their_organisations_campaigns(app, make_campaign):
    from petition_app.models import Role

    ours, theirs, third = make_org("ours"), make_org("theirs"), make_org("third")
    make_campaign(slug="our-campaign", org=ours, title="Our own campaign")
    make_campaign(slug="their-campaign", org=theirs, title="Their private campaign")
    make_campaign(slug="third-campaign", org=third, title="A third campaign")
    make_user("viewer@example.org", (ours, Role.VIEWER), (third, Role.VIEWER))
    make_user("editor@example.org", (ours, Role.EDITOR))
    make_user("root@example.org", superuser=True)
    pages = {email: log_in(app, email).get("/admin/").get_data(as_text=True)
             for email in ("viewer@example.org", "editor@example.org", "root@example.org")}
    assert "Our own campaign" in pages["viewer@example.org"] and "A third campaign" in pages["viewer@example.org"]
    assert "Their private campaign" not in pages["viewer@example.org"]
    assert "Our own campaign" in pages["editor@example.org"]
    assert "Their private campaign" not in pages["editor@example.org"]
    assert "A third campaign" not in pages["editor@example.org"]
    for title in ("Our own campaign", "Their private campaign", "A third campaign"):
        assert title in pages["root@example.org"]


def test_the_dashboard_lists_the_newest_campaign_first_and_same_age_by_id(app, make_campaign):
    ours = make_org("ours", "Zeta Group")
    make_org("alpha", "Alpha Group")
    make_org("mid", "Mid Group")
    same_time = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    # Created (so numbered) in an order that differs from their age.
    for title, created in (("Newest campaign", datetime(2026, 6, 1, tzinfo=timezone.utc)),
                           ("Oldest campaign", datetime(2025, 1, 1, tzinfo=timezone.utc)),
                           ("Middle campaign A", same_time), ("Middle campaign B", same_time)):
        make_campaign(org=ours, title=title, created_at=created)
    make_user("root@example.org", superuser=True)
    client = log_in(app, "root@example.org")
    page = client.get("/admin/").get_data(as_text=True)
    titles = ["Oldest campaign", "Middle campaign A", "Newest campaign", "Middle campaign B"]
    assert sorted(titles, key=page.index) == ["Newest campaign", "Middle campaign B", "Middle campaign A",
                                              "Oldest campaign"]
    form = client.get("/admin/campaigns/new").get_data(as_text=True)
    names = ["Zeta Group", "Mid Group", "Alpha Group"]
    assert sorted(names, key=form.index) == ["Alpha Group", "Mid Group", "Zeta Group"]


def test_coarse_now_is_an_aware_utc_time_at_most_one_unit_old(make_app):
    with make_app(SIGNATURE_TIME_PRECISION="minute").app_context():
        stamp = coarse_now()
        assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
        assert timedelta(0) <= datetime.now(timezone.utc) - stamp < timedelta(minutes=1)
        assert (stamp.second, stamp.microsecond) == (0, 0)


# -- rate-limit keys ------------------------------------------------------------------------------------------------


class _Tomorrow(date):
    @classmethod
    def today(cls):
        return date.today() + timedelta(days=1)


def test_without_redis_the_rate_limit_key_is_a_stable_keyed_hash_of_the_address(app, make_app, monkeypatch):
    def key(of_app, address: str = "198.51.100.7") -> str:
        with of_app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            return privacy.rate_limit_key()

    first = key(app)
    assert key(app) == first
    assert re.fullmatch(r"[0-9a-f]{32}", first) and "198.51.100.7" not in first
    assert key(app, "198.51.100.8") != first
    # The day's key derives from SECRET_KEY and the date: a restart (or another server) keeps it, another
    # SECRET_KEY does not.
    assert key(make_app(SECRET_KEY=app.config["SECRET_KEY"])) == first
    assert key(make_app(SECRET_KEY=app.config["SECRET_KEY"] + "x")) != first
    monkeypatch.setattr(privacy, "date", _Tomorrow)  # a new day gives every address a new key
    assert key(app) != first
    assert key(app, "198.51.100.8") != key(app)


# -- sealing keys -------------------------------------------------------------------------------------------------


def test_sealing_refuses_keys_with_stray_characters_and_says_why():
    public, private = sealing.generate_keypair()
    values = {"first_name": "Женя", "last_name": "Кузнецова", "email": "z@example.org", "phone": None}
    assert sealing.unseal(private, sealing.seal(f"  {public}\n", values)) == values  # surrounding space is fine
    for broken in (public[:10] + "*" + public[10:], public[:-4], "not a key"):
        with pytest.raises(sealing.SealingError, match=r"not a valid PublicKey \(base64 of 32 bytes\)"):
            sealing.seal(broken, values)
    with pytest.raises(sealing.SealingError, match=r"not a valid PrivateKey"):
        sealing.public_key_of(private[:10] + "!" + private[10:])
    _, other = sealing.generate_keypair()
    with pytest.raises(sealing.SealingError, match=r"^this private key does not open the data \(wrong organisation's key\?\)$"):
        sealing.unseal(other, sealing.seal(public, values))


# -- moderation of proposals ------------------------------------------------------------------------------------


def _proposal(title: str):
    from petition_app.starter import service as starter_service

    return starter_service.propose(starter_service.Proposal(
        public_name="A group", email=f"{title.split()[0].lower()}@example.org", title=title, lead="Lead.",
        body="Body.", targets="Them", demands="One", goal=100, language="en", contact_language="en"))


def test_moderators_see_only_their_hosts_confirmed_proposals(make_app):
    from petition_app.models import Role
    from petition_app.starter import service as starter_service

    app = make_app(STARTER_HOST_ORG="host-a")
    with app.app_context():
        host_a, host_b = make_org("host-a"), make_org("host-b")
        pending = _proposal("Pending proposal at A")
        starter_service.confirm(pending)
        unconfirmed = _proposal("Unconfirmed proposal at A")
        pending_id, unconfirmed_id = pending.id, unconfirmed.id
        make_user("mod-a@example.org", (host_a, Role.EDITOR))
        make_user("mod-b@example.org", (host_b, Role.EDITOR))
        client_a = log_in(app, "mod-a@example.org")
        queue = client_a.get("/admin/moderation").get_data(as_text=True)
        assert "Pending proposal at A" in queue and "Unconfirmed proposal at A" not in queue
        assert client_a.get(f"/admin/moderation/{pending_id}").status_code == 200
        assert client_a.get(f"/admin/moderation/{unconfirmed_id}").status_code == 404
        assert client_a.get("/admin/moderation/999999").status_code == 404
    # The hosting organisation changes: proposals made at A stay the business of A's moderators only.
    app_b = make_app(STARTER_HOST_ORG="host-b")
    with app_b.app_context():
        client_b = log_in(app_b, "mod-b@example.org")
        queue = client_b.get("/admin/moderation")
        assert queue.status_code == 200 and "Pending proposal at A" not in queue.get_data(as_text=True)
        assert client_b.get(f"/admin/moderation/{pending_id}").status_code == 404

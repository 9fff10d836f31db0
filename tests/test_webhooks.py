"""Webhooks against a real HTTP receiver on a loopback port: signed per Standard Webhooks (checked with the
`standardwebhooks` library), retried after the receiver was down, delivered once each, disabled after prolonged
failure, never for an unconfirmed signature, and a sealed organisation's signers never in plaintext."""

from __future__ import annotations

import base64
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from petition_app import mailer, sealing, webhooks
from petition_app.campaigns.lifecycle import change_status
from petition_app.extensions import db
from petition_app.models import (
    AuditEntry,
    CampaignStatus,
    DeliveryStatus,
    OutboxMessage,
    Role,
    Signature,
    WebhookDelivery,
    WebhookDetail,
    WebhookEndpoint,
)
from petition_app.signing.service import SignatureInput, confirm, sign, withdraw
from tests.conftest import csrf_token, log_in, make_org, make_user
from tests.mailbox import free_port

OWNER = "owner@example.org"


class Receiver:
    """An HTTP server in a thread that records every request and answers `status`."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?source=petitions"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WEBHOOK_ALLOW_LOOPBACK": True, "WEBHOOK_RETRY_BASE_SECONDS": 0, "WEBHOOK_TIMEOUT": 5}


@pytest.fixture
def hook_app(app):
    return app


@pytest.fixture
def org(hook_app):
    organisation = make_org("hook-org", "Hook Organisation")
    make_user(OWNER, (organisation, Role.OWNER))
    return organisation


def _endpoint(org, url: str, detail=WebhookDetail.COUNTS, events=webhooks.EVENTS):
    endpoint, secret = webhooks.create_endpoint(org, url, events, detail)
    return endpoint, secret


def _signed(campaign, email="anna@example.org", confirmed=True) -> Signature:
    sign(campaign, SignatureInput("Anna", "Ivanova", email, "DE", consent_email=True))
    signature = db.session.execute(sa.select(Signature).where(Signature.campaign_id == campaign.id)
                                   .order_by(Signature.id.desc())).scalars().first()
    if confirmed:
        confirm(signature)
    return signature


def _deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars())


def _time_passes() -> None:
    """Make every queued delivery due now, as if its retry time had come."""
    db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.QUEUED)
                       .values(next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    db.session.commit()


def _verified(secret: str, request) -> dict:
    headers, body = request
    return Webhook(secret).verify(body, headers)


# -- events and their payloads ------------------------------------------------------------------------------------

@pytest.mark.parametrize("enabled", [True, False])
def test_a_confirmation_link_queues_the_event_with_the_confirmation_only_for_an_enabled_endpoint(
        org, make_campaign, client, receiver, enabled):
    """The confirm button's POST (one statement on PostgreSQL unless the organisation has an enabled endpoint):
    confirmed and counted either way; the event queued only for an enabled endpoint, in the same transaction."""
    from petition_app import tokens

    campaign = make_campaign(org=org, count_confirmed_only=True)
    endpoint, _secret = _endpoint(org, receiver.url)
    endpoint.enabled = enabled
    db.session.commit()
    signature = _signed(campaign, confirmed=False)
    link = tokens.issue(tokens.CONFIRM, 7, signature_id=signature.id)
    db.session.commit()
    token = csrf_token(client, f"/campaigns/{campaign.slug}")
    response = client.post(f"/s/confirm/{link}", data={"csrf_token": token},
                           headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200 and b"Your signature is confirmed" in response.data
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).confirmed_at is not None
    assert db.session.get(type(campaign), campaign.id).signature_count == 1
    assert [(d.signature_id, d.event_type) for d in _deliveries()] == ([(signature.id, "signature.confirmed")]
                                                                   if enabled else [])


def test_a_confirmed_signature_is_delivered_signed_as_standard_webhooks_verifies(org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    endpoint, secret = _endpoint(org, receiver.url)
    _signed(campaign)
    assert webhooks.deliver_due() == 1
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    event = _verified(secret, receiver.requests[0])
    assert event["type"] == "signature.confirmed"
    assert event["data"]["campaign"]["slug"] == campaign.slug
    assert event["data"]["total_signatures"] == 1
    assert "signature" not in event["data"]  # counts only
    assert b"anna" not in body.lower() and b"Ivanova" not in body
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"] == webhooks.sign(secret, headers["webhook-id"],
                                                         int(headers["webhook-timestamp"]), body)
    # A wrong secret does not verify.
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(webhooks.new_secret()).verify(body, headers)
    delivery = _deliveries()[0]
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.last_status_code == 204
    assert delivery.payload is None and delivery.signature_id is None


def test_signer_details_are_sent_only_to_endpoints_that_chose_them(org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    _, counts_secret = _endpoint(org, receiver.url)
    _, signer_secret = _endpoint(org, receiver.url + "&detail=1", detail=WebhookDetail.SIGNER)
    signature = _signed(campaign)
    stored = [bytes(d.payload) for d in _deliveries()]
    assert len(stored) == 2 and all(b"anna" not in blob.lower() for blob in stored)  # encrypted at rest
    webhooks.deliver_due()
    by_path = {headers["webhook-id"]: (headers, body) for headers, body in receiver.requests}
    assert len(by_path) == 2
    events = []
    for request in receiver.requests:
        for secret in (counts_secret, signer_secret):
            try:
                events.append(_verified(secret, request))
            except Exception:  # noqa: BLE001,S112 (the other endpoint's secret)
                continue
    assert len(events) == 2
    detailed = [e for e in events if "signature" in e["data"]]
    assert len(detailed) == 1
    assert detailed[0]["data"]["signature"] == {
        "id": signature.id, "country": "DE", "language": "en", "consent_email": True, "consent_sms": False,
        "consent_share": False, "signed_at": detailed[0]["data"]["signature"]["signed_at"],
        "confirmed_at": detailed[0]["data"]["signature"]["confirmed_at"],
        "first_name": "Anna", "last_name": "Ivanova", "email": "anna@example.org", "phone": None}
    assert detailed[0]["data"]["signature"]["confirmed_at"].endswith(":00:00Z")  # as coarse as stored


def test_a_sealed_organisation_sends_the_sealed_box_never_plaintext(org, make_campaign, receiver):
    public, private = sealing.generate_keypair()
    org.public_key = public
    db.session.commit()
    campaign = make_campaign(org=org)
    _, secret = _endpoint(org, receiver.url, detail=WebhookDetail.SIGNER)
    _signed(campaign, email="secret.signer@example.org")
    webhooks.deliver_due()
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    for plain in (b"secret.signer", b"Anna", b"Ivanova"):
        assert plain not in body
    event = _verified(secret, receiver.requests[0])
    signature = event["data"]["signature"]
    assert "email" not in signature and "first_name" not in signature
    opened = sealing.unseal(private, base64.b64decode(signature["sealed"]))
    assert opened["email"] == "secret.signer@example.org" and opened["first_name"] == "Anna"


def test_no_webhook_for_an_unconfirmed_signature(org, make_campaign, receiver):
    campaign = make_campaign(org=org, count_confirmed_only=False)
    _endpoint(org, receiver.url, detail=WebhookDetail.SIGNER)
    signature = _signed(campaign, confirmed=False)
    assert _deliveries() == []
    withdraw(signature)  # withdrawing it is no event either
    assert _deliveries() == []
    assert webhooks.deliver_due() == 0
    assert receiver.requests == []


def test_a_withdrawal_cancels_pending_details_and_sends_only_the_signature_id(org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    _, secret = _endpoint(org, receiver.url, detail=WebhookDetail.SIGNER)
    signature = _signed(campaign)
    signature_id = signature.id
    withdraw(signature)  # before the worker sent the confirmation
    confirmed, withdrawn = _deliveries()
    assert confirmed.status == DeliveryStatus.CANCELLED and confirmed.payload is None
    assert confirmed.signature_id is None
    webhooks.deliver_due()
    assert len(receiver.requests) == 1
    event = _verified(secret, receiver.requests[0])
    assert event["type"] == "signature.withdrawn"
    assert event["data"]["signature"] == {"id": signature_id}
    assert event["data"]["total_signatures"] == 0
    assert withdrawn.event_type == "signature.withdrawn"


def test_a_campaign_status_change_is_an_event(org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    _, secret = _endpoint(org, receiver.url, events=[webhooks.CAMPAIGN_STATUS_CHANGED])
    _signed(campaign)  # not subscribed: no delivery
    change_status(campaign, CampaignStatus.CLOSED)
    webhooks.deliver_due()
    assert len(receiver.requests) == 1
    event = _verified(secret, receiver.requests[0])
    assert event["type"] == "campaign.status_changed"
    assert event["data"]["previous_status"] == "open" and event["data"]["status"] == "closed"
    assert event["data"]["total_signatures"] == 1


def test_a_rolled_back_status_change_queues_nothing(org, make_campaign, receiver):
    campaign = make_campaign(org=org, status=CampaignStatus.DRAFT)
    _endpoint(org, receiver.url)
    with pytest.raises(ValueError):
        change_status(campaign, CampaignStatus.DELIVERED)
    assert _deliveries() == []


# -- delivery: retries, once each, leases, disabling --------------------------------------------------------------

def test_retries_after_the_receiver_was_down_then_delivers_once(org, make_campaign):
    receiver = Receiver()  # not listening yet: connections are refused
    campaign = make_campaign(org=org)
    endpoint, secret = _endpoint(org, receiver.url)
    _signed(campaign)
    assert webhooks.deliver_batch("w1") == 1
    delivery = _deliveries()[0]
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1
    assert "ConnectionRefusedError" in delivery.last_error
    assert db.session.get(WebhookEndpoint, endpoint.id).consecutive_failures == 1
    assert webhooks.deliver_due() == 0  # not due yet
    _time_passes()
    receiver.start()
    try:
        assert webhooks.deliver_due() == 1
        assert webhooks.deliver_due() == 0
        assert len(receiver.requests) == 1
        assert _verified(secret, receiver.requests[0])["type"] == "signature.confirmed"
    finally:
        receiver.stop()
    delivery = _deliveries()[0]
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert endpoint.consecutive_failures == 0 and endpoint.last_success_at is not None


def test_backoff_grows_with_jitter(hook_app):
    hook_app.config.update(WEBHOOK_RETRY_BASE_SECONDS=60, WEBHOOK_RETRY_MAX_SECONDS=3600)
    delays = [webhooks._retry_delay(n) for n in (1, 2, 3, 10)]
    assert 45 <= delays[0] <= 75 and 90 <= delays[1] <= 150 and 180 <= delays[2] <= 300
    assert 2700 <= delays[3] <= 4500
    assert len({round(webhooks._retry_delay(4), 6) for _ in range(20)}) > 1


def test_a_failed_delivery_waits_for_its_retry(hook_app, org, make_campaign, receiver):
    hook_app.config["WEBHOOK_RETRY_BASE_SECONDS"] = 600
    campaign = make_campaign(org=org)
    _endpoint(org, receiver.url)
    receiver.status = 503
    change_status(campaign, CampaignStatus.CLOSED)
    assert webhooks.deliver_due() == 1
    assert webhooks.deliver_due() == 0  # the retry waits about ten minutes
    delivery = _deliveries()[0]
    wait = delivery.next_attempt_at.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(minutes=7) < wait < timedelta(minutes=13)
    assert delivery.last_status_code == 503 and "HTTP 503" in delivery.last_error


def test_a_signature_deliverys_times_are_as_coarse_as_the_signatures(hook_app, org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    _endpoint(org, receiver.url, detail=WebhookDetail.SIGNER)
    receiver.status = 503
    _signed(campaign)
    assert webhooks.claim("w", 10)
    delivery = _deliveries()[0]
    webhooks._deliver(delivery.id)
    delivery = _deliveries()[0]
    assert delivery.signature_id is not None and delivery.attempts == 1
    for moment in (delivery.created_at, delivery.attempted_at, delivery.next_attempt_at):
        assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0), moment
    assert delivery.next_attempt_at.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
    _time_passes()
    webhooks.claim("w", 10)
    claimed = _deliveries()[0].claimed_until
    assert (claimed.minute, claimed.second, claimed.microsecond) == (0, 0, 0)


def test_two_workers_never_claim_the_same_delivery(org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    _endpoint(org, receiver.url)
    _signed(campaign)
    assert len(webhooks.claim("worker-a", 10)) == 1
    assert webhooks.claim("worker-b", 10) == []
    assert webhooks.deliver_batch("worker-b") == 0
    assert receiver.requests == []


def test_a_failed_delivery_is_replayed_from_the_admin_with_the_same_webhook_id(hook_app, org, make_campaign,
                                                                               receiver):
    hook_app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    campaign = make_campaign(org=org)
    endpoint, secret = _endpoint(org, receiver.url)
    receiver.status = 500
    _signed(campaign)
    webhooks.deliver_due()
    _time_passes()
    webhooks.deliver_due()
    delivery = _deliveries()[0]
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2 and delivery.payload is not None
    receiver.status = 200
    client = log_in(hook_app, OWNER)
    page = f"/admin/orgs/{org.slug}/webhooks/{endpoint.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Send again" in html and "HTTP 500" in html
    response = client.post(f"{page}/deliveries/{delivery.id}/replay", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 303
    assert webhooks.deliver_due() == 1
    assert len(receiver.requests) == 3
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 1
    _verified(secret, receiver.requests[-1])
    assert _deliveries()[0].status == DeliveryStatus.DELIVERED
    actions = db.session.execute(sa.select(AuditEntry.action)).scalars().all()
    assert "webhook delivery replayed" in actions


def test_an_endpoint_failing_too_often_is_disabled_with_a_notice_and_a_mail(hook_app, org, make_campaign, receiver):
    hook_app.config.update(WEBHOOK_DISABLE_AFTER_FAILURES=3, WEBHOOK_RETRY_BASE_SECONDS=3600)
    campaign = make_campaign(org=org)
    endpoint, _ = _endpoint(org, receiver.url)
    receiver.status = 500
    for i in range(4):
        _signed(campaign, email=f"s{i}@example.org")
    webhooks.deliver_due()
    assert len(receiver.requests) == 3  # the fourth is not sent to a disabled endpoint
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert not endpoint.enabled and "3 failed attempts" in endpoint.disabled_reason
    mails = db.session.execute(sa.select(OutboxMessage).where(OutboxMessage.kind == "webhook_disabled")).scalars()
    assert [mailer.recipient(m) for m in mails] == [OWNER]
    assert "webhook disabled" in db.session.execute(sa.select(AuditEntry.action)).scalars().all()
    _signed(campaign, email="later@example.org")  # no new events for a disabled endpoint
    assert len(_deliveries()) == 4
    html = log_in(hook_app, OWNER).get(f"/admin/orgs/{org.slug}/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "This webhook is disabled" in html and "3 failed attempts" in html


def test_an_endpoint_failing_for_days_is_disabled(hook_app, org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    endpoint, _ = _endpoint(org, receiver.url)
    endpoint.failing_since = datetime.now(timezone.utc) - timedelta(hours=73)
    endpoint.consecutive_failures = 5
    db.session.commit()
    receiver.status = 502
    _signed(campaign)
    webhooks.deliver_batch("w")
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    since = endpoint.failing_since.replace(tzinfo=timezone.utc)
    assert datetime.now(timezone.utc) - since > timedelta(hours=72)
    assert not endpoint.enabled and f"failing since {since:%Y-%m-%d %H:%M} UTC" in endpoint.disabled_reason


def test_the_worker_once_delivers_webhooks(hook_app, org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    _endpoint(org, receiver.url)
    _signed(campaign)
    result = hook_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(receiver.requests) == 1


# -- where deliveries may go --------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://example.org/hook", "https://10.0.0.1/hook", "https://169.254.169.254/",
                                 "https://192.168.1.5/x", "https://[fd00::1]/x", "https://[::ffff:10.0.0.1]/",
                                 "https://127.0.0.1/x", "http://localhost:8080/", "ftp://93.184.215.14/",
                                 "https://user:pass@93.184.215.14/", "https:///nohost", "not a url",
                                 "https://0.0.0.0/"])
def test_unsafe_addresses_are_refused(app, url):
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    with pytest.raises(webhooks.UrlRefused):
        webhooks.check_url(url)


def test_loopback_is_allowed_only_in_development_and_private_networks_never(app):
    assert webhooks.check_url(" http://127.0.0.1:9/x ") == "http://127.0.0.1:9/x"
    assert webhooks.check_url("https://[::1]/x") == "https://[::1]/x"
    for url in ("http://10.0.0.1/x", "https://10.0.0.1/x", "http://93.184.215.14/x"):
        with pytest.raises(webhooks.UrlRefused):
            webhooks.check_url(url)
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    assert webhooks.check_url("https://93.184.215.14/hook") == "https://93.184.215.14/hook"
    with pytest.raises(webhooks.UrlRefused):
        webhooks.check_url("http://127.0.0.1:9/x")


def test_an_address_that_became_private_is_not_contacted(org, make_campaign, receiver, hook_app):
    campaign = make_campaign(org=org)
    endpoint, _ = _endpoint(org, receiver.url)
    _signed(campaign)
    hook_app.config["WEBHOOK_ALLOW_LOOPBACK"] = False  # now 127.0.0.1 is off limits, as a rebound name would be
    webhooks.deliver_batch("w")
    assert receiver.requests == []
    assert "refused" in _deliveries()[0].last_error


# -- the admin -----------------------------------------------------------------------------------------------------

def test_only_owners_reach_the_webhooks(hook_app, org):
    make_user("editor@example.org", (org, Role.EDITOR))
    editor = log_in(hook_app, "editor@example.org")
    assert editor.get(f"/admin/orgs/{org.slug}/webhooks").status_code == 404
    owner = log_in(hook_app, OWNER)
    assert owner.get(f"/admin/orgs/{org.slug}/webhooks").status_code == 200
    assert "Webhooks" in owner.get(f"/admin/orgs/{org.slug}").get_data(as_text=True)


def test_an_owner_adds_a_webhook_and_sees_its_secret_once(hook_app, org, receiver):
    client = log_in(hook_app, OWNER)
    page = f"/admin/orgs/{org.slug}/webhooks"
    response = client.post(page, data={"url": receiver.url, "events": ["signature.confirmed"], "detail": "signer",
                                        "description": "CRM", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    endpoint = db.session.execute(sa.select(WebhookEndpoint)).scalar_one()
    secret = webhooks.secret_of(endpoint)
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert secret in html
    assert secret.encode() not in bytes(endpoint.secret)  # stored encrypted
    assert endpoint.event_types == ["signature.confirmed"] and endpoint.detail == WebhookDetail.SIGNER
    assert secret not in client.get(page).get_data(as_text=True)
    assert secret not in client.get(f"{page}/{endpoint.id}").get_data(as_text=True)
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "webhook created")).scalar_one()
    assert entry.actor == OWNER and secret not in entry.detail

    # A new secret, shown once; the test event is signed with it.
    response = client.post(f"{page}/{endpoint.id}/secret", data={"csrf_token": csrf_token(client, page)})
    db.session.expire_all()
    new = webhooks.secret_of(db.session.get(WebhookEndpoint, endpoint.id))
    assert new != secret and new in response.get_data(as_text=True)
    response = client.post(f"{page}/{endpoint.id}/test", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 303
    webhooks.deliver_due()
    event = _verified(new, receiver.requests[0])
    assert event["type"] == "webhook.test"
    with pytest.raises(Exception, match="No matching signature"):
        _verified(secret, receiver.requests[0])


def test_a_refused_address_is_a_clear_error_and_nothing_is_saved(hook_app, org):
    client = log_in(hook_app, OWNER)
    page = f"/admin/orgs/{org.slug}/webhooks"
    response = client.post(page, data={"url": "https://10.1.2.3/hook", "events": ["signature.confirmed"],
                                       "detail": "counts", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 422
    assert "private, loopback or reserved address" in response.get_data(as_text=True)
    response = client.post(page, data={"url": "https://93.184.215.14/hook", "detail": "counts",
                                       "csrf_token": csrf_token(client, page)})
    assert response.status_code == 422
    assert "Choose at least one event" in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count()).select_from(WebhookEndpoint)).scalar_one() == 0


def test_an_owner_edits_disables_and_deletes_a_webhook(hook_app, org, make_campaign, receiver):
    endpoint, _ = _endpoint(org, receiver.url)
    client = log_in(hook_app, OWNER)
    page = f"/admin/orgs/{org.slug}/webhooks/{endpoint.id}"
    response = client.post(page, data={"url": receiver.url, "events": ["campaign.status_changed"],
                                       "detail": "counts", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 303
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert not endpoint.enabled and endpoint.event_types == ["campaign.status_changed"]
    change_status(make_campaign(org=org), CampaignStatus.CLOSED)
    assert _deliveries() == []  # disabled: nothing queued
    client.post(f"{page}/delete", data={"csrf_token": csrf_token(client, page)})
    assert db.session.execute(sa.select(sa.func.count()).select_from(WebhookEndpoint)).scalar_one() == 0


def test_another_organisations_webhook_is_not_found(hook_app, org, receiver):
    other = make_org("other-org")
    endpoint, _ = _endpoint(other, receiver.url)
    client = log_in(hook_app, OWNER)
    assert client.get(f"/admin/orgs/{org.slug}/webhooks/{endpoint.id}").status_code == 404
    token = csrf_token(client, f"/admin/orgs/{org.slug}/webhooks")
    assert client.post(f"/admin/orgs/{org.slug}/webhooks/{endpoint.id}/delete",
                       data={"csrf_token": token}).status_code == 404
    assert db.session.get(WebhookEndpoint, endpoint.id) is not None


def test_payload_json_is_what_the_readme_documents(org, make_campaign, receiver):
    campaign = make_campaign(org=org)
    _, secret = _endpoint(org, receiver.url)
    _signed(campaign)
    webhooks.deliver_due()
    event = json.loads(receiver.requests[0][1])
    assert set(event) == {"type", "timestamp", "data"}
    assert set(event["data"]) == {"campaign", "total_signatures"}
    assert set(event["data"]["campaign"]) == {"id", "slug", "title", "status", "url"}
    assert event["data"]["campaign"]["url"] == f"http://localhost/campaigns/{campaign.slug}"


def test_https_endpoints_are_verified_against_the_host_name(hook_app, org, make_campaign, tmp_path, monkeypatch):
    import ssl
    import subprocess

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    receiver = Receiver().start()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    try:
        url = f"https://127.0.0.1:{receiver.port}/hooks"
        _, secret = _endpoint(org, url)
        campaign = make_campaign(org=org)
        _signed(campaign)
        webhooks.deliver_due()  # a certificate no trusted authority signed: refused
        assert receiver.requests == []
        assert "CERTIFICATE_VERIFY_FAILED" in _deliveries()[0].last_error
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now trusted, as a real certificate would be
        _time_passes()
        webhooks.deliver_due()
        assert len(receiver.requests) == 1
        assert _verified(secret, receiver.requests[0])["type"] == "signature.confirmed"
    finally:
        receiver.stop()


def test_a_campaign_published_or_taken_down_by_moderation_is_an_event(org, make_campaign, receiver):
    from petition_app.starter import service as starter_service

    _, secret = _endpoint(org, receiver.url, events=[webhooks.CAMPAIGN_STATUS_CHANGED])
    starter = starter_service.propose(starter_service.Proposal(
        public_name="Group", email="group@example.org", title="Open the shelters", lead="Lead.", body="Body.",
        targets="The council", demands="Open them", goal=100, language="en"))
    starter_service.confirm(starter)
    starter_service.approve(starter)
    starter_service.take_down(starter, "Spam")
    webhooks.deliver_due()
    events = [_verified(secret, request)["data"] for request in receiver.requests]
    assert [(e["previous_status"], e["status"]) for e in events] == [("draft", "open"), ("open", "closed")]


def test_flask_check_warns_when_loopback_webhooks_are_allowed_in_production(make_app):
    from petition_app.checks import find_problems

    production = make_app(PUBLIC_URL="https://petitions.example.org", WEBHOOK_ALLOW_LOOPBACK=True)
    assert "webhook-loopback" in {f.code for f in find_problems(production)}
    safe = make_app(PUBLIC_URL="https://petitions.example.org", WEBHOOK_ALLOW_LOOPBACK=False)
    assert "webhook-loopback" not in {f.code for f in find_problems(safe)}


def test_erasing_a_closed_campaigns_signers_wipes_their_pending_deliveries(org, make_campaign, receiver):
    from petition_app.signing.service import erase_closed

    campaign = make_campaign(org=org)
    _endpoint(org, receiver.url, detail=WebhookDetail.SIGNER)
    _signed(campaign)
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = datetime.now(timezone.utc) - timedelta(days=3 * 365)
    db.session.commit()
    assert erase_closed() == {campaign.slug: 1}
    delivery = _deliveries()[0]
    assert delivery.status == DeliveryStatus.CANCELLED
    assert delivery.payload is None and delivery.signature_id is None
    assert webhooks.deliver_due() == 0 and receiver.requests == []

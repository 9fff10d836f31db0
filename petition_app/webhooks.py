"""Webhooks: an organisation's events, queued with their cause and sent by the worker, signed per Standard Webhooks.

- Owners register endpoints (HTTPS; plain http and loopback addresses only with WEBHOOK_ALLOW_LOOPBACK, for
  development) and choose the events and how much a signature event tells: counts only, or the signature too.
  Organisations that seal signer data send the sealed box as stored, never plaintext.
- A delivery is written in the same transaction as its cause (a confirmation, a withdrawal, a status change), so
  an event is never lost and never sent for something that was rolled back; no event for an unconfirmed signature.
- Bodies and secrets are stored encrypted under a key that is not in the database (derived like the outbox's);
  a delivered body is wiped, and a withdrawn or erased signature's pending deliveries are cancelled and wiped.
- The worker claims due deliveries under a lease (two workers never send the same one), posts them with a
  timeout, to the address it checked (no redirects, no DNS rebinding onto a private address), and retries
  failures with exponential backoff and jitter. Every attempt and replay carries the same `webhook-id`.
- An endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS, or WEBHOOK_DISABLE_AFTER_FAILURES times in a row, is
  disabled with a notice in the admin and a mail to the organisation's owners.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import math
import random
import secrets
import socket
import ssl
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import current_app
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import DateTime, bindparam, case, insert, literal, or_, select, update

from petition_app import audit, mailer
from petition_app.extensions import db
from petition_app.models import (
    Campaign,
    CampaignStatus,
    DeliveryStatus,
    Membership,
    Organisation,
    Role,
    Signature,
    User,
    WebhookDelivery,
    WebhookDetail,
    WebhookEndpoint,
)
from petition_app.privacy import coarse_now
from petition_app.templating import public_url

log = logging.getLogger(__name__)

SIGNATURE_CONFIRMED = "signature.confirmed"
SIGNATURE_WITHDRAWN = "signature.withdrawn"
CAMPAIGN_STATUS_CHANGED = "campaign.status_changed"
EVENTS = (SIGNATURE_CONFIRMED, SIGNATURE_WITHDRAWN, CAMPAIGN_STATUS_CHANGED)
TEST_EVENT = "webhook.test"
USER_AGENT = "petition_app-webhooks/1"
MAX_URL_LENGTH = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


_PRECISION_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}


def _signer_time(moment: datetime, signer: bool, later: bool = False) -> datetime:
    """`moment`; for a delivery about a signature, as coarse as the signature's times (SIGNATURE_TIME_PRECISION):
    the boundary before it, or with `later` the first boundary at or after it (for retries and leases)."""
    if not signer:
        return moment
    floor = coarse_now(moment)
    if not later or floor == moment:
        return floor
    step = _PRECISION_SECONDS.get(current_app.config.get("SIGNATURE_TIME_PRECISION", "hour"), 3600)
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, timezone.utc)


# -- encryption at rest and signing ---------------------------------------------------------------------------------

def _key() -> bytes:
    """HKDF-SHA256 (RFC 5869) of OUTBOX_KEY, or of SECRET_KEY when unset: a key that is never in the database."""
    secret = (current_app.config.get("OUTBOX_KEY") or current_app.config["SECRET_KEY"]).encode()
    pseudo_random_key = hmac.new(b"petition_app webhooks", secret, hashlib.sha256).digest()
    return hmac.new(pseudo_random_key, b"webhook data v1\x01", hashlib.sha256).digest()


def _seal(data: bytes) -> bytes:
    return bytes(SecretBox(_key()).encrypt(data))


def _open(blob: bytes) -> bytes:
    return SecretBox(_key()).decrypt(bytes(blob))


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes it: "whsec_" and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_of(endpoint: WebhookEndpoint) -> str:
    return _open(endpoint.secret).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: "v1," and the base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def body_of(delivery: WebhookDelivery) -> bytes | None:
    """A delivery's JSON body (None once wiped); raises nacl's CryptoError under another key."""
    return None if delivery.payload is None else _open(delivery.payload)


# -- where deliveries may go ------------------------------------------------------------------------------------

class UrlRefused(ValueError):
    """An endpoint address the server will not post to; the message says why (shown to the owner)."""


def _allow_loopback() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_LOOPBACK"))


def _is_loopback_name(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return _allow_loopback()
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> str:
    """The address to connect to: every address the name resolves to must be public (or loopback, when allowed)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UrlRefused(f"the host name {host} cannot be resolved") from error
    addresses = [info[4][0] for info in found]
    if not addresses:
        raise UrlRefused(f"the host name {host} cannot be resolved")
    refused = [a for a in addresses if not _address_allowed(a)]
    if refused:
        raise UrlRefused(f"{host} resolves to a private, loopback or reserved address ({refused[0]})")
    return addresses[0]


def check_url(url: str, resolve_host: bool = True) -> str:
    """The endpoint URL, stripped, if deliveries may go there; raises UrlRefused saying why not."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"give an address of at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise UrlRefused("the address contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UrlRefused("this is not a valid address") from error
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise UrlRefused("the address must start with https://")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("the address must not contain a user name or password")
    if parts.fragment:
        raise UrlRefused("the address must not contain a fragment (#...)")
    if parts.scheme == "http" and not (_allow_loopback() and _is_loopback_name(host)):
        raise UrlRefused("the address must start with https://")
    if resolve_host:
        resolve(host, port or (443 if parts.scheme == "https" else 80))
    return url


# -- managing endpoints (the admin's service; each function commits its unit of work) ------------------------------

def _clean_events(events) -> str:
    chosen = [e for e in EVENTS if e in set(events)]
    if not chosen:
        raise ValueError("choose at least one event")
    return " ".join(chosen)


def create_endpoint(organisation: Organisation, url: str, events, detail: WebhookDetail,
                    description: str = "") -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret, which is shown once and never again."""
    url = check_url(url)
    secret = new_secret()
    endpoint = WebhookEndpoint(organisation_id=organisation.id, url=url, description=description[:200],
                               secret=_seal(secret.encode()), events=_clean_events(events),
                               detail=WebhookDetail(detail))
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook created", url, organisation.id,
                 f"events: {endpoint.events}; sends: {endpoint.detail.value}")
    db.session.commit()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, url: str, events, detail: WebhookDetail, enabled: bool,
                    description: str = "") -> None:
    """Change an endpoint's address, events, detail or state; enabling it again starts its failure count afresh."""
    url = check_url(url)
    changes = []
    if url != endpoint.url:
        changes.append(f"address: {url}")
    endpoint.url = url
    endpoint.description = description[:200]
    endpoint.events = _clean_events(events)
    endpoint.detail = WebhookDetail(detail)
    if enabled and not endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason = True, ""
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
        changes.append("enabled")
    elif not enabled and endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason = False, "disabled by an owner"
        changes.append("disabled")
    changes.append(f"events: {endpoint.events}; sends: {endpoint.detail.value}")
    audit.record("webhook changed", endpoint.url, endpoint.organisation_id, "; ".join(changes))
    db.session.commit()


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret (returned, shown once); later attempts are signed with it."""
    secret = new_secret()
    endpoint.secret = _seal(secret.encode())
    audit.record("webhook secret rotated", endpoint.url, endpoint.organisation_id)
    db.session.commit()
    return secret


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log."""
    audit.record("webhook deleted", endpoint.url, endpoint.organisation_id)
    db.session.delete(endpoint)
    db.session.commit()


def send_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a test event for this endpoint (whatever events it chose)."""
    organisation = endpoint.organisation
    data = {"organisation": {"slug": organisation.slug, "name": organisation.name},
            "message": "A test event: your endpoint receives and verifies webhooks."}
    rows = [_row(endpoint, TEST_EVENT, _now(), data, campaign_id=None, signature_id=None)]
    db.session.execute(insert(WebhookDelivery.__table__), rows)
    audit.record("webhook test queued", endpoint.url, endpoint.organisation_id)
    db.session.commit()
    return db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == rows[0]["webhook_id"])).scalar_one()


def replay(delivery: WebhookDelivery) -> None:
    """Queue a failed delivery again, at once, with the same `webhook-id` (receivers drop what they already have)."""
    if delivery.status != DeliveryStatus.FAILED or delivery.payload is None:
        raise ValueError("only a failed delivery whose body is kept can be sent again")
    delivery.status = DeliveryStatus.QUEUED
    delivery.attempts = 0
    delivery.next_attempt_at = _now()
    delivery.claimed_by = delivery.claimed_until = None
    audit.record("webhook delivery replayed", delivery.endpoint.url, delivery.endpoint.organisation_id,
                 f"{delivery.event_type} {delivery.webhook_id}")
    db.session.commit()


def endpoints_of(organisation_id: int) -> list[WebhookEndpoint]:
    return list(db.session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id)
        .order_by(WebhookEndpoint.id)).scalars())


def deliveries_of(endpoint_id: int, limit: int = 100) -> list[WebhookDelivery]:
    return list(db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)).scalars())


# -- events: queued in the caller's transaction (the caller commits) ------------------------------------------------

def _row(endpoint: WebhookEndpoint, event_type: str, at: datetime, data: dict, *, campaign_id: int | None,
         signature_id: int | None) -> dict:
    body = json.dumps({"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data},
                      ensure_ascii=False, separators=(",", ":")).encode()
    return {"endpoint_id": endpoint.id, "event_type": event_type, "webhook_id": f"msg_{uuid.uuid4().hex}",
            "payload": _seal(body), "status": DeliveryStatus.QUEUED.value, "campaign_id": campaign_id,
            "signature_id": signature_id, "attempts": 0, "next_attempt_at": at, "created_at": at,
            "last_error": ""}


def _subscribed(organisation_id: int, event_type: str) -> list[WebhookEndpoint]:
    endpoints = db.session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id,
                                      WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.id)
    ).scalars()
    return [endpoint for endpoint in endpoints if event_type in endpoint.event_types]


def _campaign_data(campaign_id: int) -> tuple[int, dict]:
    """The campaign's organisation id and what every event says of it, with its count as of now."""
    row = db.session.execute(
        select(Campaign.organisation_id, Campaign.slug, Campaign.title, Campaign.status,
               (Campaign.signature_count + Campaign.offline_count).label("total"))
        .where(Campaign.id == campaign_id)
    ).one()
    return row.organisation_id, {
        "campaign": {"id": campaign_id, "slug": row.slug, "title": row.title,
                     "status": CampaignStatus(row.status).value,
                     "url": public_url("campaigns.show", slug=row.slug)},
        "total_signatures": int(row.total or 0),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _signature_data(signature: Signature) -> dict:
    """The signature as an endpoint that chose "signer" receives it; a sealed signature only as its sealed box."""
    data = {"id": signature.id, "country": signature.country, "language": signature.language,
            "consent_email": signature.consent_email, "consent_sms": signature.consent_sms,
            "consent_share": signature.consent_share, "signed_at": _iso(signature.created_at),
            "confirmed_at": _iso(signature.confirmed_at)}
    if signature.sealed is not None:
        data["sealed"] = base64.b64encode(bytes(signature.sealed)).decode()
    else:
        data.update(first_name=signature.first_name, last_name=signature.last_name, email=signature.email,
                    phone=signature.phone)
    return data


_CONFIRMED_ENDPOINTS: list = []


def _confirmed_endpoints():
    """The enabled endpoints of a confirmed signature's organisation (a select built once: every confirmation
    runs it)."""
    if not _CONFIRMED_ENDPOINTS:
        _CONFIRMED_ENDPOINTS.append(
            select(WebhookEndpoint)
            .join(Campaign, Campaign.organisation_id == WebhookEndpoint.organisation_id)
            .join(Signature, Signature.campaign_id == Campaign.id)
            .where(Signature.id == bindparam("signature"), Signature.confirmed_at.is_not(None),  # never unconfirmed
                   WebhookEndpoint.enabled.is_(True))
            .order_by(WebhookEndpoint.id))
    return _CONFIRMED_ENDPOINTS[0]


def signature_confirmed(signature_id: int) -> int:
    """Queue `signature.confirmed` for a signature confirmed in this transaction; returns how many deliveries."""
    # One read in the usual case (no endpoint): the endpoints of the signature's organisation, if it is confirmed.
    endpoints = [endpoint for endpoint in db.session.execute(_confirmed_endpoints(), {"signature": signature_id})
                 .scalars() if SIGNATURE_CONFIRMED in endpoint.event_types]
    if not endpoints:
        return 0
    signature = db.session.get(Signature, signature_id, populate_existing=True)
    _organisation_id, common = _campaign_data(signature.campaign_id)
    at = coarse_now()  # as coarse as the signature's own times
    rows = []
    for endpoint in endpoints:
        data = dict(common)
        if endpoint.detail == WebhookDetail.SIGNER:
            data["signature"] = _signature_data(signature)
        rows.append(_row(endpoint, SIGNATURE_CONFIRMED, at, data, campaign_id=signature.campaign_id,
                         signature_id=signature.id))
    db.session.execute(insert(WebhookDelivery.__table__), rows)
    return len(rows)


def signature_withdrawn(campaign_id: int, signature_id: int, was_confirmed: bool) -> int:
    """Queue `signature.withdrawn` if the signature had been confirmed; call after its row is deleted (and its
    pending deliveries forgotten, see forget_signatures), in the same transaction."""
    if not was_confirmed:
        return 0
    organisation_id, common = _campaign_data(campaign_id)
    endpoints = _subscribed(organisation_id, SIGNATURE_WITHDRAWN)
    if not endpoints:
        return 0
    at = coarse_now()
    rows = []
    for endpoint in endpoints:
        data = dict(common)
        if endpoint.detail == WebhookDetail.SIGNER:
            data["signature"] = {"id": signature_id}  # the id sent with signature.confirmed; nothing personal
        rows.append(_row(endpoint, SIGNATURE_WITHDRAWN, at, data, campaign_id=campaign_id, signature_id=None))
    db.session.execute(insert(WebhookDelivery.__table__), rows)
    return len(rows)


def campaign_status_changed(campaign: Campaign, before: CampaignStatus, after: CampaignStatus) -> int:
    """Queue `campaign.status_changed` (call before the status change commits)."""
    db.session.flush()
    organisation_id, common = _campaign_data(campaign.id)
    endpoints = _subscribed(organisation_id, CAMPAIGN_STATUS_CHANGED)
    if not endpoints:
        return 0
    data = {**common, "previous_status": CampaignStatus(before).value, "status": CampaignStatus(after).value}
    rows = [_row(endpoint, CAMPAIGN_STATUS_CHANGED, _now(), data, campaign_id=campaign.id, signature_id=None)
            for endpoint in endpoints]
    db.session.execute(insert(WebhookDelivery.__table__), rows)
    return len(rows)


def forget_signatures(signature_ids) -> None:
    """Wipe the bodies of deliveries about these signatures and cancel those not yet sent (they are going away)."""
    condition = WebhookDelivery.signature_id.in_(signature_ids)
    db.session.execute(
        update(WebhookDelivery).where(condition, WebhookDelivery.status == DeliveryStatus.QUEUED)
        .values(status=DeliveryStatus.CANCELLED, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(WebhookDelivery).where(condition).values(payload=None, signature_id=None)
        .execution_options(synchronize_session=False))


# -- sending ----------------------------------------------------------------------------------------------------

class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the address that was checked, not to whatever the name resolves to a moment later."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address; the certificate is still verified for the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST the body; returns the response's status code (redirects are not followed)."""
    parts = urlsplit(check_url(url, resolve_host=False))
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = resolve(parts.hostname, port)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        connection.close()


def _lease() -> timedelta:
    return timedelta(seconds=2 * current_app.config["WEBHOOK_TIMEOUT"] + 60)


def claim(worker_id: str, limit: int) -> list[int]:
    """Claim up to `limit` due deliveries of enabled endpoints; a row is claimed by one worker only."""
    now = _now()
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    due = (WebhookDelivery.status == DeliveryStatus.QUEUED, WebhookDelivery.next_attempt_at <= now,
           or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))
    candidates = db.session.execute(
        select(WebhookDelivery.id).where(*due, WebhookDelivery.endpoint_id.in_(enabled))
        .order_by(WebhookDelivery.id).limit(limit)
    ).scalars().all()
    db.session.rollback()  # end the read before the writes, so SQLite takes its write lock cleanly
    lease_end = now + _lease()
    claimed_until = case(
        (WebhookDelivery.signature_id.is_(None), literal(lease_end, DateTime(timezone=True))),
        else_=literal(_signer_time(lease_end, signer=True, later=True), DateTime(timezone=True)))
    claimed = []
    for delivery_id in candidates:  # compare-and-set, in id order: concurrent claimers never deadlock
        result = db.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, *due)
            .values(claimed_by=worker_id, claimed_until=claimed_until)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(delivery_id)
    db.session.commit()
    return claimed


def _retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter (±25 %), capped."""
    cfg = current_app.config
    delay = min(cfg["WEBHOOK_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1), cfg["WEBHOOK_RETRY_MAX_SECONDS"])
    return delay * random.uniform(0.75, 1.25)  # noqa: S311 (spreading retries, not a secret)


def _record_failure(delivery: WebhookDelivery, error: str, status_code: int | None) -> None:
    """Note a failed attempt on the delivery and its endpoint; fail it for good or disable the endpoint if due."""
    cfg = current_app.config
    now = _now()
    delivery.last_error = error[:500]
    delivery.last_status_code = status_code
    delivery.claimed_by = delivery.claimed_until = None
    if delivery.attempts >= cfg["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status = DeliveryStatus.FAILED
    endpoint = delivery.endpoint
    endpoint.consecutive_failures = (endpoint.consecutive_failures or 0) + 1
    endpoint.failing_since = endpoint.failing_since or now
    failing_for = now - endpoint.failing_since
    if endpoint.enabled and (endpoint.consecutive_failures >= cfg["WEBHOOK_DISABLE_AFTER_FAILURES"]
                             or failing_for >= timedelta(hours=cfg["WEBHOOK_DISABLE_AFTER_HOURS"])):
        _disable(endpoint)
    log.warning("webhook delivery %s attempt %s failed: %s", delivery.id, delivery.attempts, error[:200])


def _disable(endpoint: WebhookEndpoint) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = (f"disabled automatically after {endpoint.consecutive_failures} failed attempts "
                                f"in a row, failing since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC")
    audit.record("webhook disabled", endpoint.url, endpoint.organisation_id, endpoint.disabled_reason,
                 actor="webhook worker")
    owners = db.session.execute(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == endpoint.organisation_id, Membership.role == Role.OWNER,
               User.active.is_(True)).order_by(User.email)
    ).scalars().all()
    organisation = endpoint.organisation
    link = public_url("admin.webhook", org_slug=organisation.slug, endpoint_id=endpoint.id)
    for address in owners:
        mailer.enqueue("webhook_disabled", address, current_app.config["BABEL_DEFAULT_LOCALE"], "webhook_disabled",
                       organisation=organisation, url=endpoint.url, reason=endpoint.disabled_reason, link=link)
    log.error("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)


def _succeed(delivery: WebhookDelivery, status_code: int) -> None:
    now = _now()
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = _signer_time(now, delivery.signature_id is not None)
    delivery.last_status_code = status_code
    delivery.last_error = ""
    delivery.claimed_by = delivery.claimed_until = None
    delivery.payload = None  # delivered: the body (perhaps a signer's details) is not kept
    delivery.signature_id = None
    endpoint = delivery.endpoint
    endpoint.consecutive_failures = 0
    endpoint.failing_since = None
    endpoint.last_success_at = now


def _deliver(delivery_id: int) -> None:
    """Record the attempt, post the delivery, record the outcome; any error stays on this delivery."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return
    try:
        body = body_of(delivery)
        secret = secret_of(delivery.endpoint)
    except CryptoError:
        delivery.attempts += 1
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = "cannot decrypt the delivery (were OUTBOX_KEY or SECRET_KEY changed?)"
        delivery.claimed_by = delivery.claimed_until = None
        db.session.commit()
        return
    if not delivery.endpoint.enabled:  # disabled since it was claimed: it waits, untried, for the endpoint
        delivery.claimed_by = delivery.claimed_until = None
        db.session.commit()
        return
    if body is None:
        delivery.status = DeliveryStatus.CANCELLED
        delivery.claimed_by = delivery.claimed_until = None
        db.session.commit()
        return
    # The attempt is on record before the request leaves: a crash after sending retries with the same id.
    signer = delivery.signature_id is not None
    delivery.attempts += 1
    delivery.attempted_at = _signer_time(_now(), signer)
    delivery.next_attempt_at = _signer_time(_now() + timedelta(seconds=_retry_delay(delivery.attempts)), signer,
                                            later=True)
    url, webhook_id = delivery.endpoint.url, delivery.webhook_id
    db.session.commit()
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": webhook_id,
               "webhook-timestamp": str(timestamp), "webhook-signature": sign(secret, webhook_id, timestamp, body)}
    status_code, error = None, ""
    try:
        status_code = post(url, body, headers, current_app.config["WEBHOOK_TIMEOUT"])
    except UrlRefused as refused:
        error = f"refused: {refused}"
    except (OSError, http.client.HTTPException) as failure:  # refused, timed out, TLS, a broken response
        error = f"{type(failure).__name__}: {failure}"
    if status_code is not None and not 200 <= status_code < 300:
        error = f"the endpoint answered HTTP {status_code}"
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # its endpoint was deleted meanwhile
        return
    if error:
        _record_failure(delivery, error, status_code)
    else:
        _succeed(delivery, status_code)
    db.session.commit()


def deliver_batch(worker_id: str) -> int:
    """Send one batch of due deliveries; returns how many were handled."""
    ids = claim(worker_id, current_app.config["WEBHOOK_BATCH_SIZE"])
    for delivery_id in ids:
        try:
            _deliver(delivery_id)
        except Exception:  # noqa: BLE001 (one delivery never stops the others; its lease expires, it is retried)
            db.session.rollback()
            log.exception("webhook delivery %s failed unexpectedly", delivery_id)
    return len(ids)


def deliver_due(worker_id: str | None = None) -> int:
    """Send every delivery due now (the worker's --once); returns how many were handled."""
    worker_id = worker_id or mailer.worker_id()
    total = 0
    while handled := deliver_batch(worker_id):
        total += handled
    return total

"""Rate-limit counters in Redis: a dump of Redis alone reveals no client address, no key and no action."""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import uuid

import pytest

from tests.conftest import redis_or_skip, sign_data
from tests.test_security import open_campaign

# A database of its own, and only keys this test created are read and deleted (never the whole Redis database).
REDIS_URL = os.environ.get("TEST_REDIS_RATELIMIT_URL", "redis://127.0.0.1:6379/13")
# The attacker's range: 4,096 addresses around the signer's. A wider range costs the attacker more but can only add
# false matches (2**-64 each): whether the signer's own address is recoverable is decided by the candidates.
NETWORK = ipaddress.ip_network("10.77.192.0/20")


@pytest.fixture
def redis_client():
    """A Redis client and a key prefix of this test's own: only keys under it are read and deleted."""
    client = redis_or_skip(REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex}:".encode()
    yield client, prefix
    for key in client.scan_iter(match=prefix + b"*"):
        client.delete(key)
    client.close()


def _candidates(dump: list[bytes]) -> list[bytes]:
    """Everything in the dump that could serve as a secret: each value and each part of each key."""
    found = set(dump)
    for item in dump:
        found.update(part for part in re.split(rb"[:/]", item) if part)
    return sorted(found)


ADDRESSES = [str(a).encode() for a in NETWORK]


def _brute_force(dump: list[bytes], candidates: list[bytes]) -> list[str]:
    """The attack that recovered a /16 from Redis before: HMAC every address with every secret found in Redis."""
    prefixes = {bytes.fromhex(m.group()[:16].decode()) for item in dump for m in re.finditer(rb"[0-9a-f]{16,}", item)}
    recovered = []
    for secret in candidates:
        for address in ADDRESSES:
            if hmac.digest(secret, address, "sha256")[:8] in prefixes:
                recovered.append(address.decode())
    return recovered


def test_a_redis_dump_reveals_no_address_no_secret_and_no_action(make_app, redis_client):
    client_redis, prefix = redis_client
    slug = "k-" + uuid.uuid4().hex[:6]
    app = make_app(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=prefix.decode(), RATELIMIT_ENABLED=True,
                   RATELIMIT_SIGN="5 per minute;50 per hour")
    with app.app_context():
        open_campaign(slug)
    client = app.test_client()
    data = sign_data(client, slug)
    address = "10.77.200.31"
    for i in range(2):
        assert client.post(f"/campaigns/{slug}/sign", data={**data, "email": f"k{i}@example.org"},
                           environ_base={"REMOTE_ADDR": address}).status_code == 303

    created = sorted(client_redis.scan_iter(match=prefix + b"*"))
    assert created  # the counters and the cache are under the prefix: what the dump is made of
    dump = created + [client_redis.get(k) or b"" for k in created if client_redis.type(k) == b"string"]
    assert address.encode() not in b" ".join(dump)
    assert not any(b"salt" in k for k in created)  # the daily key is derived from SECRET_KEY, never stored
    assert _brute_force(dump, _candidates(dump)) == []
    limiter_keys = [k.removeprefix(prefix) for k in created if not k.startswith(prefix + b"cache:")]
    assert len(limiter_keys) == 2  # the minute's and the hour's counter of this client's signing
    for word in (b"sign", b"login", b"start", b"admin", b"campaign", b"limiter", b"email"):
        assert word not in b" ".join(limiter_keys).lower(), word


def test_the_brute_force_recovers_an_address_when_the_salt_sits_beside_the_hashes():
    """Control: the same attack finds the address in the layout the store used to have (salt in Redis)."""
    salt = os.urandom(32).hex().encode()
    key = hmac.digest(salt, b"10.77.203.4", "sha256").hex()[:32]
    dump = [b"petition_app:ratelimit-salt:2026-01-01", salt, f"LIMITS:LIMITER/{key}/signing.sign/30/1/minute".encode()]
    assert _brute_force(dump, _candidates(dump)) == ["10.77.203.4"]

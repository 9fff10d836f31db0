"""With REDIS_URL: the counter cache, rate-limit storage and the daily salt live in Redis, and hold no address."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import redis_or_skip, sign_data
from tests.test_security import open_campaign

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client():
    client = redis_or_skip(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client):
    """A prefix of this test's own; only the keys under it are deleted afterwards (never the whole Redis database)."""
    prefix = f"test-{uuid.uuid4().hex}:"
    yield prefix
    for key in redis_client.scan_iter(match=prefix + "*"):
        redis_client.delete(key)


def test_rate_limits_and_counter_cache_use_redis_without_storing_addresses(make_app, redis_client, key_prefix):
    slug = "r-" + uuid.uuid4().hex[:6]
    outside_before = {k for k in redis_client.scan_iter(match="petition_app:*")}
    app = make_app(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=key_prefix, RATELIMIT_ENABLED=True,
                   RATELIMIT_SIGN="2 per minute", COUNTER_CACHE_SECONDS=30)
    assert app.config["RATELIMIT_STORAGE_URI"] == "opaque+" + REDIS_URL
    with app.app_context():
        open_campaign(slug)
    client = app.test_client()
    address = {"REMOTE_ADDR": "198.51.100.23"}
    data = sign_data(client, slug)
    codes = [client.post(f"/campaigns/{slug}/sign", data={**data, "email": f"x{i}@example.org"},
                         environ_base=address).status_code for i in range(3)]
    assert codes == [303, 303, 429]
    assert client.get(f"/campaigns/{slug}/counter").status_code == 200

    keys = [k.decode() for k in redis_client.scan_iter(match=key_prefix + "*")]
    assert f"{key_prefix}cache:counter:{slug}" in keys  # the cached count
    assert any(k.startswith(key_prefix + "rl") for k in keys)  # the limiter's counters (opaque names)
    assert not any("salt" in k for k in keys)  # the daily key is derived from SECRET_KEY, never stored
    # Nothing went under the default prefix (other sites' keys, or an earlier test's, are left alone).
    assert not any(slug.encode() in k for k in set(redis_client.scan_iter(match="petition_app:*")) - outside_before)
    dump = " ".join(keys) + " ".join(str(redis_client.get(k)) for k in keys if redis_client.type(k) == b"string")
    assert "198.51.100.23" not in dump

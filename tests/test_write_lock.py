"""Signing writes queue on one lock per SQLite database: several processes signing at once lose nothing."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from petition_app import write_lock
from petition_app.extensions import db
from petition_app.models import Campaign, Signature
from petition_app.signing.service import SignatureInput, sign
from tests.conftest import ON_POSTGRES, ROOT

# Each child process signs its share from several threads at once, through the service as the sign view does.
SIGNER = """
import json, sys, threading
import sqlalchemy as sa
from petition_app import create_app
from petition_app.extensions import db
from petition_app.models import Campaign
from petition_app.signing.service import SignatureInput, sign

config, slug, name, per_thread, threads = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
app = create_app(config)
failures = []

def work(t):
    with app.app_context():
        for i in range(per_thread):
            try:
                campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == slug)).scalar_one()
                sign(campaign, SignatureInput(first_name="Anna", last_name="Test", country="DE",
                                              email=f"{name}-{t}-{i}@example.org"))
            except Exception as error:
                failures.append(repr(error))
            finally:
                db.session.remove()

workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps(failures))
"""


def _signers(app, slug: str, processes: int, per_thread: int, threads: int) -> list[subprocess.Popen]:
    config = {key: app.config[key] for key in ("DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH", "PUBLIC_URL")}
    config.update(TESTING=True, RATELIMIT_ENABLED=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [subprocess.Popen([sys.executable, "-c", SIGNER, json.dumps(config), slug, f"p{n}", str(per_thread),
                              str(threads)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
            for n in range(processes)]


def test_two_processes_signing_at_once_lose_nothing_and_count_every_row(app, make_campaign):
    campaign = make_campaign(slug="crowd", count_confirmed_only=False)
    children = _signers(app, "crowd", processes=2, per_thread=15, threads=4)
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert json.loads(out) == []
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(sa.func.count()).select_from(Signature).where(Signature.campaign_id == campaign.id)).scalar_one()
    assert rows == 2 * 15 * 4
    assert db.session.get(Campaign, campaign.id).total_count == rows


def _holding_lock_file(database: str):
    fd = os.open(write_lock.lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


@pytest.mark.skipif(ON_POSTGRES, reason="the lock file is SQLite's; PostgreSQL locks rows")
def test_a_signature_waits_while_another_process_holds_the_lock_file(app, make_campaign):
    campaign = make_campaign(slug="queue", count_confirmed_only=False)
    campaign_id = campaign.id
    # Another open file description stands for another process: flock excludes it as it would a process.
    fd = _holding_lock_file(os.path.abspath(db.engine.url.database))
    done = threading.Event()

    def signer():
        with app.app_context():
            sign(db.session.get(Campaign, campaign_id),
                 SignatureInput(first_name="Anna", last_name="Test", email="queued@example.org", country="DE"))
            db.session.remove()
        done.set()

    thread = threading.Thread(target=signer, daemon=True)
    try:
        thread.start()
        assert not done.wait(2)  # still queued while the lock file is held
        assert db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one() == 0
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    thread.join(60)
    assert done.is_set()
    assert db.session.execute(sa.select(Signature.email).where(Signature.campaign_id == campaign_id)).scalars().all() \
        == ["queued@example.org"]


@pytest.mark.skipif(ON_POSTGRES, reason="the lock file is SQLite's; PostgreSQL locks rows")
def test_a_connection_already_writing_does_not_wait_for_the_lock_file(app, make_campaign):
    campaign = make_campaign(slug="inside", count_confirmed_only=False)
    campaign_id = campaign.id
    fd = _holding_lock_file(os.path.abspath(db.engine.url.database))
    done = threading.Event()

    def writer():
        with app.app_context():
            # A write already open on this connection holds SQLite's lock: waiting for the file could deadlock.
            db.session.execute(sa.update(Campaign).where(Campaign.id == campaign_id).values(goal=200))
            with write_lock.serialised():
                db.session.commit()
            db.session.remove()
        done.set()

    thread = threading.Thread(target=writer, daemon=True)
    try:
        thread.start()
        assert done.wait(60)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).goal == 200

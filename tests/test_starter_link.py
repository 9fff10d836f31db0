"""/start/link does identical work for every address; only the worker looks the address up and mails."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from petition_app import mailer
from petition_app.extensions import db
from petition_app.models import OutboxMessage, StarterLinkRequest, Token
from petition_app.starter import service
from tests.test_starter import STARTER_EMAIL, approved_starter, post


def rows() -> dict[str, int]:
    db.session.expire_all()
    return {model.__name__: db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
            for model in (StarterLinkRequest, Token, OutboxMessage)}


@pytest.mark.usefixtures("host")
def test_a_link_request_writes_the_same_single_row_for_a_starter_and_for_anyone(app):
    approved_starter(app)
    changes = []
    for address in ("STARTER.private@example.org", "nobody@example.org", STARTER_EMAIL):
        before = rows()
        response = post(app.test_client(), "/start/link", {"email": address})
        assert response.status_code == 200 and "Check your mailbox" in response.get_data(as_text=True)
        after = rows()
        changes.append({name: after[name] - before[name] for name in after})
    assert changes == [{"StarterLinkRequest": 1, "Token": 0, "OutboxMessage": 0}] * 3
    stored = db.session.execute(sa.select(StarterLinkRequest.email_hash)).scalars().all()
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in stored)
    assert stored[0] == stored[2] != stored[1]  # the keyed hash, never the address


@pytest.mark.usefixtures("host")
def test_the_worker_mails_the_stored_address_once_per_known_request_and_drops_the_others(app):
    approved_starter(app)
    for address in ("nobody@example.org", "STARTER.private@example.org", "someone@example.org"):
        post(app.test_client(), "/start/link", {"email": address})
    before = rows()
    assert service.answer_link_requests() == 1
    assert service.answer_link_requests() == 0  # each request is answered once, then gone
    after = rows()
    assert after["StarterLinkRequest"] == 0
    assert after["OutboxMessage"] == before["OutboxMessage"] + 1
    assert after["Token"] == before["Token"] + 1
    mail = db.session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).scalars().first()
    payload = mailer.open_payload(mail)
    assert (mail.kind, mailer.recipient(mail)) == ("starter_link", STARTER_EMAIL)
    dashboard = re.search(r"http://localhost(/start/dashboard/[A-Za-z0-9_-]+)", payload["text"]).group(1)
    assert app.test_client().get(dashboard).status_code == 200


@pytest.mark.usefixtures("host")
def test_worker_once_answers_link_requests(app, runner):
    approved_starter(app)
    post(app.test_client(), "/start/link", {"email": STARTER_EMAIL})
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert rows()["StarterLinkRequest"] == 0
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "starter_link")).scalar_one() == 1


@pytest.fixture
def host(app):
    from tests.conftest import make_org

    return make_org("host", "Host Organisation")

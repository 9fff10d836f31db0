"""What a signing or a confirmation costs the database: statements compiled once, a confirmed page rendered once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine.default import DefaultExecutionContext

from petition_app import tokens
from petition_app.extensions import db
from petition_app.models import Campaign, OutboxMessage, Signature
from tests.conftest import sign_data

BROWSER = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}


class Recorder:
    """Every statement the app runs, with whether SQLAlchemy took its compiled form from the cache."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, str]] = []
        self.alone: list[bool] = []  # PostgreSQL: whether each statement ran as a transaction of its own

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.split()[0] in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            return
        hit = context.cache_hit if isinstance(context, DefaultExecutionContext) else None
        self.statements.append((" ".join(statement.split()), getattr(hit, "name", str(hit))))
        if conn.dialect.name == "postgresql":  # the driver sends BEGIN first unless in autocommit with none open
            driver = conn.connection.dbapi_connection
            self.alone.append(driver.autocommit and driver.info.transaction_status.name == "IDLE")

    def __enter__(self):
        sa.event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self)


def _signer(i: int) -> dict:
    return {"email": f"path{i}@example.org", "last_name": f"Test{'abcdefgh'[i]}"}


def test_a_signature_runs_only_statements_compiled_before(client, make_campaign):
    make_campaign(slug="path", count_confirmed_only=False)
    data = sign_data(client, "path")
    for i in range(2):  # the first signatures compile what they need
        assert client.post("/campaigns/path/sign", data={**data, **_signer(i)}, headers=BROWSER).status_code == 303
    with Recorder() as recorder:
        assert client.post("/campaigns/path/sign", data={**data, **_signer(2)}, headers=BROWSER).status_code == 303
    statements = recorder.statements
    assert any("INSERT INTO signatures" in text for text, _hit in statements)
    assert any("INSERT INTO campaign_counts" in text for text, _hit in statements)
    assert [(text, hit) for text, hit in statements if hit != "CACHE_HIT"] == []
    assert any("INSERT INTO outbox" in text for text, _hit in statements)
    # Each statement is a round trip to the database: on PostgreSQL the signature's row, its count, the repeat
    # limit's update and the mail's row are one statement, run in autocommit (no BEGIN, no COMMIT: one round trip).
    # (The campaign's few columns are read by the first signature and kept with the public pages.)
    if db.engine.dialect.name == "postgresql":
        expected = ["WITH added AS"]
        assert recorder.alone == [True]
    else:
        expected = ["INSERT INTO signatures", "INSERT INTO campaign_counts", "SELECT signatures.id",
                    "UPDATE signatures", "INSERT INTO outbox"]
    assert len(statements) == len(expected)
    assert all(text.startswith(start) for (text, _hit), start in zip(statements, expected, strict=True)), statements


def test_confirmations_share_one_rendered_page_and_compile_nothing(make_app):
    app = make_app(PAGE_CACHE_SECONDS=60)
    client = app.test_client()
    with app.app_context():
        from petition_app.models import CampaignStatus, Organisation

        campaign = Campaign(slug="conf", title="Confirm me", organisation=Organisation(slug="o", name="O"),
                            status=CampaignStatus.OPEN, goal=10, count_confirmed_only=True)
        db.session.add(campaign)
        db.session.flush()
        links = []
        for i in range(4):
            signature = Signature(campaign_id=campaign.id, first_name="A", last_name="B",
                                  email=f"c{i}@example.org", email_hash=f"{i:064x}", country="DE",
                                  created_at=sa.func.now())
            db.session.add(signature)
            db.session.flush()
            links.append(tokens.issue(tokens.CONFIRM, 7, signature_id=signature.id))
        db.session.commit()
        token = sign_data(client, "conf")["csrf_token"]
        pages = []
        for link in links[:2]:
            response = client.post(f"/s/confirm/{link}", data={"csrf_token": token}, headers=BROWSER)
            assert response.status_code == 200
            pages.append(response.get_data())
        with Recorder() as recorder:
            response = client.post(f"/s/confirm/{links[2]}", data={"csrf_token": token}, headers=BROWSER)
        assert response.status_code == 200
        pages.append(response.get_data())
        # Each answer carries its own link (in the language links) and no one else's; otherwise the same bytes.
        for link, page in zip(links[:3], pages, strict=True):
            assert f"next=/s/confirm/{link}".encode() in page
            assert not any(other.encode() in page for other in links if other != link)
        assert pages[0].replace(links[0].encode(), b"") == pages[2].replace(links[2].encode(), b"")
        assert b"Your signature is confirmed" in pages[0] and b"Confirm me" in pages[0]
        # Nothing compiled again, and the campaign and its neighbours not loaded for the page.
        assert [(text, hit) for text, hit in recorder.statements if hit != "CACHE_HIT"] == []
        assert not any(text.startswith("SELECT campaigns.id") for text, _hit in recorder.statements)
        # The round trips: on PostgreSQL one statement in autocommit (no BEGIN, no COMMIT); elsewhere the link's
        # signature, its update, the count and the organisation's webhook endpoints.
        starts = [text.split(" (")[0].split(" SET")[0][:32] for text, _hit in recorder.statements]
        if db.engine.dialect.name == "postgresql":
            assert starts == ["WITH link AS"] and recorder.alone == [True]
        else:
            assert starts == ["SELECT signatures.id, signatures", "UPDATE signatures",
                              "INSERT INTO campaign_counts", "SELECT webhook_endpoints.id, web"], starts
        db.session.expire_all()
        assert db.session.get(Campaign, campaign.id).signature_count == 3


def test_a_repeat_refused_a_mail_runs_the_same_statements_as_one_that_gets_it(client, make_campaign):
    campaign = make_campaign(slug="again", count_confirmed_only=False)
    data = sign_data(client, "again")
    assert client.post("/campaigns/again/sign", data=data, headers=BROWSER).status_code == 303
    runs = []
    for _attempt in range(2):  # the first repeat of a day is mailed; the next one, within minutes, is not
        with Recorder() as recorder:
            assert client.post("/campaigns/again/sign", data=data, headers=BROWSER).status_code == 303
        runs.append([text for text, _hit in recorder.statements])
    assert runs[0] == runs[1]
    assert any("INSERT INTO outbox" in text for text in runs[1])
    queued = db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.campaign_id == campaign.id)).scalar_one()
    assert queued == 2  # the signature's confirmation and the first repeat's mail


def test_a_signature_writes_three_indexes_each_led_by_its_campaign(app):
    """Every index of the signatures table costs every signature a B-tree write: the table keeps only those the
    per-campaign reads use (the dedupe key and the overview's two covering indexes), read from the database."""
    inspector = sa.inspect(db.engine)
    indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("signatures")}
    indexes |= {tuple(u["column_names"]) for u in inspector.get_unique_constraints("signatures")}
    assert indexes == {("campaign_id", "email_hash"), ("campaign_id", "country"),
                       ("campaign_id", "created_at", "confirmed_at")}


def test_a_new_and_a_repeated_signature_run_the_same_statements(client, make_campaign):
    # Whether an address had signed must not show in what the database is asked (nor so in the time it takes).
    make_campaign(slug="same", count_confirmed_only=False)
    data = sign_data(client, "same")
    assert client.post("/campaigns/same/sign", data={**data, **_signer(0)}, headers=BROWSER).status_code == 303
    runs = []
    for signer in (_signer(1), _signer(1)):  # new, then the same address again
        with Recorder() as recorder:
            assert client.post("/campaigns/same/sign", data={**data, **signer}, headers=BROWSER).status_code == 303
        runs.append([text for text, _hit in recorder.statements])
    assert runs[0] == runs[1]
    assert any("INSERT INTO signatures" in text for text in runs[0])


def test_signers_with_javascript_share_one_rendered_answer_while_the_count_stands(make_app):
    app = make_app(COUNTER_CACHE_SECONDS=60, PAGE_CACHE_SECONDS=60)
    client = app.test_client()
    with app.app_context():
        from petition_app.models import CampaignStatus, Organisation

        db.session.add(Campaign(slug="js", title="Signed with htmx", organisation=Organisation(slug="o", name="O"),
                                status=CampaignStatus.OPEN, goal=10, count_confirmed_only=True))
        db.session.commit()
    data = sign_data(client, "js")
    htmx = {**BROWSER, "HX-Request": "true"}
    answers = []
    for i in range(3):
        with app.app_context(), Recorder() as recorder:
            response = client.post("/campaigns/js/sign", data={**data, **_signer(i)}, headers=htmx)
        assert response.status_code == 200 and response.headers["HX-Trigger"] == "signed"
        answers.append((response.get_data(), recorder.statements))
    assert b"Thank you for signing!" in answers[0][0] and b"/campaigns/js" in answers[0][0]
    assert answers[1][0] == answers[0][0] == answers[2][0]
    # After the first, no signer's request reads the campaign's texts to render the answer.
    assert any("campaigns.title" in text for text, _hit in answers[0][1])
    assert not any("campaigns.title" in text for _body, statements in answers[1:] for text, _hit in statements)


def _signed_once_in_a_worker_pair(make_app, where: str, slug: str):
    """An open campaign signed once, so that the signing worker keeps its columns; returns the app that signs, the one
    an editor changes things in (the same, or two instances sharing the instance folder and database as two gunicorn
    workers do), the signer's client and the form's fields."""
    from petition_app.models import CampaignStatus, Organisation

    signer_app = make_app(PAGE_CACHE_SECONDS=60)
    admin_app = signer_app if where == "same worker" else make_app(PAGE_CACHE_SECONDS=60)
    with admin_app.app_context():
        db.session.add(Campaign(slug=slug, title=slug.title(), organisation=Organisation(slug="o", name="O"),
                                status=CampaignStatus.OPEN, goal=10, count_confirmed_only=False))
        db.session.commit()
    client = signer_app.test_client()
    data = sign_data(client, slug)
    assert client.post(f"/campaigns/{slug}/sign", data={**data, **_signer(0)}, headers=BROWSER).status_code == 303
    return signer_app, admin_app, client, data


@pytest.mark.parametrize("where", ["same worker", "another worker"])
def test_a_campaign_closed_in_any_worker_refuses_the_next_signature(make_app, where):
    from petition_app.campaigns import service as campaigns
    from petition_app.models import CampaignStatus

    signer_app, admin_app, client, data = _signed_once_in_a_worker_pair(make_app, where, "closing")
    with admin_app.app_context():  # the campaign's columns are now kept by the signing worker
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == "closing")).scalar_one()
        campaigns.change_status(campaign, CampaignStatus.CLOSED)
    response = client.post("/campaigns/closing/sign", data={**data, **_signer(1)}, headers=BROWSER)
    assert response.status_code == 409
    with signer_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one() == 1


@pytest.mark.parametrize("where", ["same worker", "another worker"])
def test_a_sealing_key_set_in_any_worker_seals_the_next_signature(make_app, where):
    from petition_app import organisations, sealing
    from petition_app.models import Organisation

    signer_app, admin_app, client, data = _signed_once_in_a_worker_pair(make_app, where, "sealing")
    public, private = sealing.generate_keypair()
    with admin_app.app_context():
        organisations.set_public_key(db.session.execute(sa.select(Organisation)).scalar_one(), public)
    later = {**data, "email": "after.the.key@example.org", "last_name": "Sealedname"}
    assert client.post("/campaigns/sealing/sign", data=later, headers=BROWSER).status_code == 303
    with signer_app.app_context():
        stored = db.session.execute(sa.select(Signature).order_by(Signature.id)).scalars().all()
        assert stored[0].email and not stored[0].sealed  # before the key
        assert (stored[1].email, stored[1].last_name) == ("", "")
        assert sealing.unseal(private, stored[1].sealed)["email"] == "after.the.key@example.org"

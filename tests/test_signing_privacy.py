"""Signing reveals nothing about who has signed: not the page, not the count, not a database error; repeat signers
get the mail they need (a fresh confirmation, or "already signed") within limits against mail-bombing."""

from __future__ import annotations

import os
import random
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from petition_app import sealing
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Organisation, OutboxMessage, OutboxStatus, Signature
from petition_app.signing.service import SignatureInput, confirm, sign
from tests.conftest import ON_POSTGRES, at_the_same_moment, csrf_token, sign_data

HX = {"HX-Request": "true"}
_TOKEN_VALUE = re.compile(rb'(name="csrf_token" type="hidden" value=")[^"]+(")|("X-CSRFToken": ")[^"]+(")')


def stored_count(campaign: Campaign) -> int:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id).signature_count


def without_form_token(page: bytes) -> bytes:
    """The page with the value of its form token blanked: the token changes every second, not with signatures."""
    return _TOKEN_VALUE.sub(rb"\1\2\3\4", page)


def public_view(client, slug: str) -> tuple[bytes, bytes, bytes]:
    """What anyone can read about the count: the counter fragment, the thanks page and the campaign page."""
    counter = client.get(f"/campaigns/{slug}/counter")
    thanks = client.get(f"/campaigns/{slug}/thanks")
    page = client.get(f"/campaigns/{slug}")
    assert counter.status_code == thanks.status_code == page.status_code == 200
    return counter.data, without_form_token(thanks.data), without_form_token(page.data)


def run_worker(app) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_path(message, kind: str) -> str:
    match = re.search(rf"https?://\S+/s/{kind}/\S+", text_of(message))
    assert match, f"no {kind} link in the mail"
    return urlsplit(match.group(0)).path


def post_button(client, path: str):
    """Press the button of a confirm or withdraw page, as a browser does."""
    return client.post(path, data={"csrf_token": csrf_token(client, path)})


def new_campaign(slug: str, sealed: bool = False, **fields) -> Campaign:
    org = Organisation(slug=f"org-{slug}", name="Org", public_key=sealing.generate_keypair()[0] if sealed else None)
    campaign = Campaign(slug=slug, title="Stop the ban", organisation=org, status=CampaignStatus.OPEN, goal=100,
                        **fields)
    db.session.add(campaign)
    db.session.commit()
    return campaign


# -- the count oracle -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sealed", [False, True], ids=["plain-org", "sealed-org"])
def test_signing_with_a_signed_or_a_new_address_looks_the_same_in_bytes_and_count(app, sealed):
    campaign = new_campaign("quiet", sealed=sealed)  # the default counting, as every new campaign gets it
    assert campaign.count_confirmed_only is True
    victims = [f"victim{i}@example.org" for i in range(50)]
    for i, address in enumerate(victims):
        sign(campaign, SignatureInput("Vera", "Victim", address, "RU"))
        if i % 2:  # half of them confirmed their signature
            confirm(db.session.execute(sa.select(Signature).order_by(Signature.id.desc())).scalars().first())
    assert stored_count(campaign) == 25

    probes = [(address, True) for address in victims] + [(f"fresh{i}@example.org", False) for i in range(50)]
    random.Random(9).shuffle(probes)
    client = app.test_client()
    token = csrf_token(client, "/campaigns/quiet")
    answers: dict[tuple[str, bool], set[bytes]] = {}
    moves: dict[bool, list[int]] = {True: [], False: []}
    views = set()
    for n, (address, had_signed) in enumerate(probes):
        before = stored_count(campaign)
        data = {"first_name": "Ivan", "last_name": "Probe", "email": address, "country": "RU", "csrf_token": token}
        mode = "htmx" if n % 2 else "plain"
        response = client.post("/campaigns/quiet/sign", data=data, headers=HX if mode == "htmx" else {})
        assert response.status_code == (200 if mode == "htmx" else 303)
        answer = response.data if mode == "htmx" else response.headers["Location"].encode()
        answers.setdefault((mode, had_signed), set()).add(answer)
        moves[had_signed].append(stored_count(campaign) - before)
        views.add(public_view(client, "quiet"))
    # An observer of the count sees the same movement (none) after a new and after a signed address: 0 of 50
    # probes of either kind can be told apart by the count.
    assert sum(move != 0 for move in moves[False]) == sum(move != 0 for move in moves[True]) == 0
    assert len(moves[False]) == len(moves[True]) == 50
    assert len(views) == 1  # counter fragment, thanks page and campaign page never changed
    assert "<strong>25</strong>" in views.pop()[0].decode()
    for mode in ("htmx", "plain"):
        assert answers[(mode, True)] == answers[(mode, False)] and len(answers[(mode, True)]) == 1
    assert db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one() == 100


def test_opting_in_counts_unconfirmed_signatures_at_once_and_repeats_not(client):
    campaign = new_campaign("open-count", count_confirmed_only=False)
    client.post("/campaigns/open-count/sign", data=sign_data(client, "open-count", email="a@example.org"))
    assert stored_count(campaign) == 1
    client.post("/campaigns/open-count/sign", data=sign_data(client, "open-count", email="b@example.org"))
    client.post("/campaigns/open-count/sign", data=sign_data(client, "open-count", email="A@example.org"))
    assert stored_count(campaign) == 2
    assert "<strong>2</strong>" in client.get("/campaigns/open-count/counter").get_data(as_text=True)
    confirm(db.session.execute(sa.select(Signature).order_by(Signature.id)).scalars().first())
    assert stored_count(campaign) == 2  # already counted when made


def test_confirming_moves_every_public_count_once_on_the_first_confirm(mail_app, smtp):
    mail_app.config["PAGE_CACHE_SECONDS"] = 0  # rendered pages may lag a few seconds by design; here, read each anew
    new_campaign("confirm-me")
    client = mail_app.test_client()
    for address in ("anna@example.org", "boris@example.org"):
        assert client.post("/campaigns/confirm-me/sign", data=sign_data(
            client, "confirm-me", email=address)).status_code == 303
    run_worker(mail_app)
    links = {m["To"]: link_path(m, "confirm") for m in smtp.box.messages}
    assert set(links) == {"anna@example.org", "boris@example.org"}

    def shown() -> set[str]:
        counter = client.get("/campaigns/confirm-me/counter").get_data(as_text=True)
        thanks = client.get("/campaigns/confirm-me/thanks").get_data(as_text=True)
        page = client.get("/campaigns/confirm-me").get_data(as_text=True)
        return {re.search(r"<strong>(\d+)</strong>", html).group(1) for html in (counter, thanks, page)}

    assert shown() == {"0"}
    assert post_button(client, links["anna@example.org"]).status_code == 200
    assert shown() == {"1"}
    assert post_button(client, links["anna@example.org"]).status_code == 200  # the second confirm of one signer
    assert shown() == {"1"}
    assert post_button(client, links["boris@example.org"]).status_code == 200
    assert shown() == {"2"}
    assert post_button(client, links["boris@example.org"]).status_code == 200
    assert shown() == {"2"}
    # The htmx answer to a new signer shows the confirmed count in both counters, not counting the new signer.
    answer = client.post("/campaigns/confirm-me/sign", data=sign_data(client, "confirm-me", email="c@example.org"),
                         headers=HX).get_data(as_text=True)
    assert re.findall(r"<strong>(\d+)</strong>", answer) == ["2", "2"]


# -- duplicates without a database error ----------------------------------------------------------------------------


@pytest.fixture
def database_errors(app):
    """Every error the database raises on the app's connections, even one the code catches."""
    errors = []

    def record(context):
        errors.append(repr(context.original_exception))

    sa.event.listen(db.engine, "handle_error", record)
    yield errors
    sa.event.remove(db.engine, "handle_error", record)


def test_a_repeated_signature_raises_no_database_error_stores_nothing_and_answers_alike(client, database_errors):
    campaign = new_campaign("no-error")
    first = client.post("/campaigns/no-error/sign", data=sign_data(client, "no-error", first_name="Anna"), headers=HX)
    again = client.post("/campaigns/no-error/sign", data=sign_data(
        client, "no-error", first_name="Other", email=" ANNA@example.ORG"), headers=HX)
    assert database_errors == []
    assert first.data == again.data and first.headers["HX-Trigger"] == again.headers["HX-Trigger"]
    [signature] = db.session.execute(sa.select(Signature)).scalars().all()
    assert (signature.first_name, signature.email) == ("Anna", "anna@example.org")
    assert stored_count(campaign) == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's server log")
def test_postgresql_server_log_does_not_record_a_repeated_signature(client):
    """The server logs a unique violation with the key's values: (campaign_id, email_hash) and a time."""
    version = db.session.execute(sa.text("SELECT current_setting('server_version_num')::int / 10000")).scalar_one()
    log = f"/var/log/postgresql/postgresql-{version}-main.log"
    size = db.session.execute(sa.text("SELECT (pg_stat_file(:f, true)).size"), {"f": log}).scalar_one()
    db.session.rollback()
    if size is None:
        if os.environ.get("REQUIRE_POSTGRES", "") not in ("", "0", "false"):
            pytest.fail(f"no PostgreSQL server log at {log}")
        pytest.skip(f"no PostgreSQL server log at {log}")
    new_campaign("log-quiet")
    for _ in range(3):
        client.post("/campaigns/log-quiet/sign", data=sign_data(client, "log-quiet"))
    stored_hash = db.session.execute(sa.select(Signature.email_hash)).scalar_one()
    written = db.session.execute(sa.text("SELECT pg_read_file(:f, :offset, 10000000)"),
                                 {"f": log, "offset": size}).scalar_one()
    db.session.rollback()
    assert stored_hash not in written


# -- signing again ----------------------------------------------------------------------------------------------------


def test_signing_again_unconfirmed_sends_a_new_working_confirmation_link(mail_app, smtp):
    campaign = new_campaign("again")
    client = mail_app.test_client()
    first = client.post("/campaigns/again/sign", data=sign_data(client, "again"), headers=HX)
    run_worker(mail_app)
    again = client.post("/campaigns/again/sign", data=sign_data(client, "again"), headers=HX)
    run_worker(mail_app)
    assert first.data == again.data
    first_mail, second_mail = smtp.box.messages
    assert first_mail["Subject"] == second_mail["Subject"] == "Please confirm your signature: Stop the ban"
    assert second_mail["To"] == "anna@example.org"
    old_link, new_link = link_path(first_mail, "confirm"), link_path(second_mail, "confirm")
    assert new_link != old_link
    assert post_button(client, new_link).status_code == 200
    assert stored_count(campaign) == 1
    assert db.session.execute(sa.select(Signature.confirmed_at)).scalar_one() is not None


def test_signing_again_when_confirmed_sends_the_already_signed_mail(mail_app, smtp):
    campaign = new_campaign("signed-before")
    client = mail_app.test_client()
    client.post("/campaigns/signed-before/sign", data=sign_data(client, "signed-before"))
    run_worker(mail_app)
    assert post_button(client, link_path(smtp.box.messages[0], "confirm")).status_code == 200
    client.post("/campaigns/signed-before/sign", data=sign_data(client, "signed-before", email="Anna@Example.org"))
    run_worker(mail_app)
    assert len(smtp.box.messages) == 2
    mail = smtp.box.messages[1]
    assert mail["Subject"] == "You have already signed: Stop the ban"
    assert "/s/withdraw/" in text_of(mail) and "/s/confirm/" not in text_of(mail)
    assert stored_count(campaign) == 1


def test_repeats_are_limited_without_changing_the_answer(mail_app, smtp):
    """First repeat always; then one per quiet 10 minutes, at most three repeat mails a day."""
    new_campaign("bombed")
    client = mail_app.test_client()
    cache = mail_app.extensions["petition_cache"]
    answers = set()

    def attempt() -> int:
        """Sign with the victim's address; return how many mails it caused."""
        before = len(smtp.box.messages)
        answers.add(client.post("/campaigns/bombed/sign", data=sign_data(client, "bombed"), headers=HX).data)
        run_worker(mail_app)
        return len(smtp.box.messages) - before

    def ten_minutes_pass() -> None:
        cache.clear()

    assert attempt() == 1  # the signature's confirmation
    assert attempt() == 1  # the first repeat, at once
    assert attempt() == 0  # within ten minutes
    assert attempt() == 0
    ten_minutes_pass()
    assert attempt() == 1  # second repeat of the day
    ten_minutes_pass()
    assert attempt() == 1  # third
    ten_minutes_pass()
    assert attempt() == 0  # the day's limit
    # The next day the first repeat gets its mail again.
    signature = db.session.execute(sa.select(Signature)).scalar_one()
    signature.repeat_day -= timedelta(days=1)
    db.session.commit()
    assert attempt() == 1
    assert len(answers) == 1
    assert [m["To"] for m in smtp.box.messages] == ["anna@example.org"] * 5
    # Limited attempts left nothing in the outbox to be sent later.
    queued = db.session.execute(sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED))
    assert queued.first() is None


def test_repeat_limits_are_per_campaign_and_address(mail_app, smtp):
    new_campaign("one")
    org = db.session.execute(sa.select(Organisation)).scalar_one()
    db.session.add(Campaign(slug="two", title="Second", organisation=org, status=CampaignStatus.OPEN, goal=10))
    db.session.commit()
    client = mail_app.test_client()
    for slug in ("one", "one", "one", "two", "two"):
        client.post(f"/campaigns/{slug}/sign", data=sign_data(client, slug))
    client.post("/campaigns/one/sign", data=sign_data(client, "one", email="boris@example.org"))
    client.post("/campaigns/one/sign", data=sign_data(client, "one", email="boris@example.org"))
    run_worker(mail_app)
    to = sorted(m["To"] for m in smtp.box.messages)
    # Anna: confirmation and first repeat on each campaign; her third attempt on "one" is within ten minutes.
    assert to == ["anna@example.org"] * 4 + ["boris@example.org"] * 2


# -- safe default everywhere ------------------------------------------------------------------------------------------


def test_demo_campaigns_and_proposals_count_only_confirmed_signatures(app, runner):
    from petition_app.starter.service import Proposal, propose

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    demo = db.session.execute(sa.select(Campaign.count_confirmed_only)).scalars().all()
    starter = propose(Proposal(public_name="A local group", email="starter@example.org", title="Open the clinic",
                               lead="Lead.", body="Body.", targets="The mayor", demands="Open it", goal=100,
                               language="en"))
    assert len(demo) >= 3 and all(flag is True for flag in demo)
    assert db.session.get(Campaign, starter.campaign_id).count_confirmed_only is True


def test_admin_form_starts_confirmed_only_and_warns_what_counting_every_signature_reveals(app):
    from petition_app.models import Role
    from tests.conftest import log_in, make_org, make_user

    org = make_org("org-form")
    make_user("editor@example.org", (org, Role.EDITOR))
    editor = log_in(app, "editor@example.org")
    html = editor.get("/admin/campaigns/new").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*id="count_confirmed_only"[^>]*>', html).group(0)
    assert "checked" in checkbox
    assert "anyone can learn whether an address has signed" in html
    every = Campaign(slug="every-counts", title="T", organisation=org, status=CampaignStatus.OPEN, goal=10,
                     count_confirmed_only=False)
    db.session.add(every)
    db.session.commit()
    overview = editor.get(f"/admin/campaigns/{every.id}")
    assert overview.status_code == 200
    assert "Unconfirmed signatures count towards the number shown: anyone can learn whether an address has signed" \
        in overview.get_data(as_text=True)


def _insert(conn, table: str, **values) -> None:
    """Insert a row into a table as the old schema has it, filling the other required columns with neutral values."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    for column in reflected.columns:
        if column.name in values or column.nullable or column.primary_key or column.server_default is not None:
            continue
        python_type = column.type.python_type
        values[column.name] = {str: "", int: 0, bool: False}.get(python_type, datetime(2026, 1, 1, tzinfo=timezone.utc))
    conn.execute(reflected.insert().values(**values))


def test_migration_switches_existing_campaigns_to_confirmed_only_and_recounts(app_config, tmp_path):
    from flask_migrate import upgrade

    from petition_app import create_app

    url = "sqlite:///" + str(tmp_path / "old.sqlite3")
    if ON_POSTGRES:
        import uuid

        schema = "mig_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(os.environ["DATABASE_URL"])
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        base = os.environ["DATABASE_URL"]
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    app = create_app({**app_config, "DATABASE_URL": url})
    try:
        with app.app_context():
            upgrade(revision="52cf1abd8f4b")
            with db.engine.begin() as conn:
                _insert(conn, "organisations", id=1, slug="o", name="O")
                _insert(conn, "campaigns", id=1, slug="every", title="T", goal=10, status="open", organisation_id=1,
                        count_confirmed_only=False, signature_count=3)
                _insert(conn, "campaigns", id=2, slug="careful", title="T", goal=10, status="open",
                        organisation_id=1, count_confirmed_only=True, signature_count=1)
                for i, confirmed in enumerate((True, False, False)):
                    _insert(conn, "signatures", campaign_id=1, email_hash=f"h{i}", country="DE",
                            confirmed_at=datetime(2026, 1, 2, tzinfo=timezone.utc) if confirmed else None)
            upgrade()
            with db.engine.begin() as conn:
                rows = set(conn.execute(sa.text(
                    "SELECT slug, count_confirmed_only, signature_count FROM campaigns")).all())
                kept = conn.execute(sa.text("SELECT count(*) FROM signatures")).scalar_one()
            db.session.remove()
            db.engine.dispose()
    finally:
        if ON_POSTGRES:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    assert {(slug, bool(flag), n) for slug, flag, n in rows} == {("every", True, 1), ("careful", True, 1)}
    assert kept == 3  # no signature lost on the way


def test_erasure_at_the_end_of_retention_also_drops_the_date_of_repeat_mails(app):
    from petition_app.signing.service import erase_closed

    campaign = new_campaign("erase-repeats")
    keep = new_campaign("still-open")
    for target in (campaign, keep):
        sign(target, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
        sign(target, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
    campaign.status = CampaignStatus.CLOSED
    db.session.commit()
    campaign.closed_at = datetime.now(timezone.utc) - timedelta(days=800)
    db.session.commit()
    assert erase_closed() == {"erase-repeats": 1}
    db.session.expire_all()
    rows = {s.campaign_id: (s.repeat_day is None, s.repeat_mails)
            for s in db.session.execute(sa.select(Signature)).scalars()}
    assert rows == {campaign.id: (True, 0), keep.id: (False, 1)}


def test_repeats_at_the_same_moment_send_one_mail_between_them(make_app):
    """Ten attempts at once with an address that signed: its confirmation and exactly one repeat mail."""
    app = make_app()
    with app.app_context():
        campaign = new_campaign("burst")
        campaign_id = campaign.id
        sign(campaign, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
    at_the_same_moment(app, 10, lambda: sign(db.session.get(Campaign, campaign_id),
                                             SignatureInput("Anna", "I", "anna@example.org", "DE")))
    with app.app_context():
        queued = db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.QUEUED)).scalar_one()
        signature = db.session.execute(sa.select(Signature)).scalar_one()
        assert queued == 2
        assert signature.repeat_mails == 1

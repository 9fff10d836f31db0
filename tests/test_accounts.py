"""Admin accounts: invitations instead of passwords on screen, password recovery by mail, sessions that really end,
login limits that cannot lock the holder out, and two-factor login."""

from __future__ import annotations

import hashlib
import re
import time
import uuid

import pyotp
import sqlalchemy as sa

from petition_app import mailer
from petition_app.extensions import db
from petition_app.models import (
    AccountToken,
    AuditEntry,
    Invitation,
    Membership,
    OutboxMessage,
    RecoveryCode,
    Role,
    User,
)
from petition_app.passwords import verify_password
from tests.conftest import ADMIN_PASSWORD, csrf_token, log_in, make_org, make_user, redis_or_skip
from tests.mailbox import text_part

NEW_PASSWORD = "correct horse battery staple"


def deliver(app, smtp) -> list:
    """Run the mail worker once and return the messages the SMTP server received (as parsed mails)."""
    with app.app_context():
        mailer.send_due()
    return smtp.box.messages


def admin_link(text: str, kind: str) -> str:
    match = re.search(rf"https?://\S+(/admin/{kind}/[A-Za-z0-9_-]+)", text)
    assert match, f"no {kind} link in: {text}"
    return match.group(1)


def post(client, path, data=None, form_page=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, form_page or path)})


def login(client, email, password=ADMIN_PASSWORD):
    return post(client, "/admin/login", {"email": email, "password": password})


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


# -- 9.3: nobody but the holder knows a password ------------------------------------------------------------------


def test_one_owner_cannot_take_over_an_account_that_another_organisation_adds(mail_app, smtp):
    """The reproduced attack: owner A adds x, org B later adds x, A logs in as x and exports B's data."""
    app = mail_app
    org_a, org_b = make_org("org-a"), make_org("org-b")
    make_user("owner-a@example.org", (org_a, Role.OWNER))
    make_user("owner-b@example.org", (org_b, Role.OWNER))
    owner_a = log_in(app, "owner-a@example.org")

    answer = post(owner_a, "/admin/orgs/org-a", {"email": "x@example.org", "role": "editor"})
    seen_by_a = answer.get_data() + owner_a.get("/admin/orgs/org-a").get_data()
    assert db.session.execute(sa.select(User).where(User.email == "x@example.org")).scalar() is None

    mails = deliver(app, smtp)
    assert [m["To"] for m in mails] == ["x@example.org"]  # the link goes to x only
    path = admin_link(text_part(mails[0]), "invitations")
    assert path.rsplit("/", 1)[1].encode() not in seen_by_a
    x = app.test_client()
    response = post(x, path, {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 303
    account = db.session.execute(sa.select(User).where(User.email == "x@example.org")).scalar_one()
    assert account.role_in(org_a.id) == Role.EDITOR and verify_password(account.password_hash, NEW_PASSWORD)
    assert x.get(path).status_code == 404  # the link is used up

    owner_b = log_in(app, "owner-b@example.org")
    assert post(owner_b, "/admin/orgs/org-b", {"email": "X@example.org", "role": "owner"}).status_code == 303
    db.session.expire_all()
    assert account.role_in(org_b.id) is None  # no membership before x accepts
    assert "x@example.org" in owner_b.get("/admin/orgs/org-b").get_data(as_text=True)  # listed as waiting

    mails = deliver(app, smtp)[1:]
    assert [m["To"] for m in mails] == ["x@example.org"]
    assert "joins only if you accept" in text_part(mails[0])

    # Owner A never knew a password of x's: neither a guess from what A saw nor the old one-time form works.
    assert login(app.test_client(), "x@example.org", "").status_code == 422
    for guess in re.findall(rb"<code>([^<]+)</code>", seen_by_a):
        assert login(app.test_client(), "x@example.org", guess.decode()).status_code == 422

    # x accepts at login; only then does the membership exist.
    x = log_in(app, "x@example.org", NEW_PASSWORD)
    dashboard = x.get("/admin/").get_data(as_text=True)
    assert "Org B invites you as owner." in dashboard
    invitation = db.session.execute(sa.select(Invitation)).scalar_one()
    assert post(x, f"/admin/invitations/{invitation.id}/accept", form_page="/admin/").status_code == 303
    db.session.expire_all()
    assert account.role_in(org_b.id) == Role.OWNER
    assert {e.actor for e in db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "invitation accepted")).scalars()} == {"x@example.org"}


def test_an_invitation_can_be_declined_and_another_account_cannot_accept_it(app):
    org_a = make_org("org-a")
    make_user("owner-a@example.org", (org_a, Role.OWNER))
    make_user("x@example.org")
    make_user("other@example.org")
    owner = log_in(app, "owner-a@example.org")
    post(owner, "/admin/orgs/org-a", {"email": "x@example.org", "role": "viewer"})
    invitation = db.session.execute(sa.select(Invitation)).scalar_one()
    other = log_in(app, "other@example.org")
    assert post(other, f"/admin/invitations/{invitation.id}/accept", form_page="/admin/").status_code == 404
    x = log_in(app, "x@example.org")
    assert post(x, f"/admin/invitations/{invitation.id}/decline", form_page="/admin/").status_code == 303
    assert db.session.execute(sa.select(sa.func.count()).select_from(Invitation)).scalar_one() == 0
    assert db.session.execute(sa.select(sa.func.count()).select_from(Membership)).scalar_one() == 1


def test_changing_a_members_role_needs_no_invitation(app):
    org = make_org("org-a")
    make_user("owner@example.org", (org, Role.OWNER))
    member = make_user("member@example.org", (org, Role.VIEWER))
    owner = log_in(app, "owner@example.org")
    post(owner, "/admin/orgs/org-a", {"email": "member@example.org", "role": "editor"})
    db.session.expire_all()
    assert member.role_in(org.id) == Role.EDITOR
    assert db.session.execute(sa.select(sa.func.count()).select_from(Invitation)).scalar_one() == 0


def test_an_owner_can_cancel_a_pending_invitation(app):
    org = make_org("org-a")
    make_user("owner@example.org", (org, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    post(owner, "/admin/orgs/org-a", {"email": "new@example.org", "role": "viewer"})
    invitation = db.session.execute(sa.select(Invitation)).scalar_one()
    link = mailer.open_payload(db.session.execute(sa.select(OutboxMessage)).scalar_one())["text"]
    response = post(owner, f"/admin/orgs/org-a/invitations/{invitation.id}/cancel", form_page="/admin/orgs/org-a")
    assert response.status_code == 303
    assert app.test_client().get(admin_link(link, "invitations")).status_code == 404


def test_an_account_whose_password_was_shown_must_set_a_new_one_by_mail(mail_app, smtp):
    app = mail_app
    user = make_user("shown@example.org")
    earlier_session = log_in(app, "shown@example.org")
    user.must_reset_password = True
    user.session_version += 1  # what the migration does to such accounts
    db.session.commit()
    assert not logged_in(earlier_session)

    client = app.test_client()
    response = login(client, "shown@example.org")
    assert response.status_code == 200 and "no longer opens the account" in response.get_data(as_text=True)
    assert not logged_in(client)
    mails = deliver(app, smtp)
    assert [m["To"] for m in mails] == ["shown@example.org"]
    path = admin_link(text_part(mails[0]), "reset")
    assert post(client, path, {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 303
    assert login(client, "shown@example.org", ADMIN_PASSWORD).status_code == 422
    assert login(client, "shown@example.org", NEW_PASSWORD).status_code == 303


def _migrated_database(app_config, tmp_path):
    import os
    import uuid

    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        base = os.environ["DATABASE_URL"]
        schema = "acc_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

        def drop():
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", drop
    return "sqlite:///" + str(tmp_path / "migrated.sqlite3"), lambda: None


def test_the_migration_flags_accounts_created_with_a_password_on_screen(app_config, tmp_path):
    from flask_migrate import upgrade

    from petition_app import create_app

    url, drop = _migrated_database(app_config, tmp_path)
    app = create_app({**app_config, "DATABASE_URL": url})
    try:
        with app.app_context():
            upgrade(revision="52cf1abd8f4b")
            now = "2026-11-01 10:00:00+00:00"
            later = "2026-11-01 10:00:20+00:00"
            with db.engine.begin() as conn:
                for uid, email, created in [(1, "owner@example.org", now), (2, "shown@example.org", later),
                                            (3, "cli@example.org", now)]:
                    conn.execute(sa.text(
                        "INSERT INTO users (id, email, password_hash, is_superuser, active, session_version,"
                        " created_at) VALUES (:id, :e, 'x', false, true, 1, :t)"), {"id": uid, "e": email, "t": created})
                conn.execute(sa.text("INSERT INTO organisations (id, slug, name, description, created_at)"
                                     " VALUES (1, 'org-a', 'A', '', :t)"), {"t": now})
                conn.execute(sa.text("INSERT INTO memberships (id, user_id, organisation_id, role)"
                                     " VALUES (1, 1, 1, 'owner')"))
                audit = ("INSERT INTO audit_log (at, user_id, actor, organisation_id, action, target, detail)"
                         " VALUES (:at, :uid, :actor, NULL, 'member set', :target, '')")
                conn.execute(sa.text(audit), {"at": now, "uid": None, "actor": "command line",
                                              "target": "owner@example.org as owner"})
                conn.execute(sa.text(audit), {"at": later, "uid": 1, "actor": "owner@example.org",
                                              "target": "Shown@example.org as editor"})
                # an existing account added by the web later: its password was never shown
                conn.execute(sa.text(audit), {"at": "2026-11-05 10:00:00+00:00", "uid": 1,
                                              "actor": "owner@example.org", "target": "cli@example.org as viewer"})
            upgrade()
            with db.engine.connect() as conn:
                rows = dict(conn.execute(sa.text(
                    "SELECT email, must_reset_password FROM users ORDER BY id")).all())
                versions = dict(conn.execute(sa.text("SELECT email, session_version FROM users")).all())
            assert {k: bool(v) for k, v in rows.items()} == {
                "owner@example.org": False, "shown@example.org": True, "cli@example.org": False}
            assert versions["shown@example.org"] == 2 and versions["owner@example.org"] == 1
            with db.engine.connect() as conn:  # nothing else touched: memberships and audit authors stay
                assert conn.execute(sa.text("SELECT count(*) FROM memberships")).scalar_one() == 1
                assert conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE user_id = 1")).scalar_one() == 2
            from flask_migrate import downgrade

            downgrade(revision="52cf1abd8f4b")
            upgrade()
            with db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM memberships")).scalar_one() == 1
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


# -- 9 lower: sessions, CSRF, limits, audit --------------------------------------------------------------------------


def test_a_copied_session_cookie_stops_working_after_logout(app):
    make_user("admin@example.org")
    client = log_in(app, "admin@example.org")
    cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert logged_in(thief)
    post(client, "/admin/logout", form_page="/admin/")
    assert not logged_in(client)
    assert not logged_in(thief)


def test_login_rotates_the_csrf_token(app):
    make_user("admin@example.org")
    client = app.test_client()
    before = csrf_token(client, "/admin/login")
    login_response = client.post("/admin/login", data={"email": "admin@example.org", "password": ADMIN_PASSWORD,
                                                       "csrf_token": before})
    assert login_response.status_code == 303
    after = csrf_token(client, "/admin/")
    assert after != before
    # a token planted before login (session fixation of the form token) no longer works
    refused = client.post("/admin/password", data={"current": ADMIN_PASSWORD, "new": NEW_PASSWORD,
                                                   "repeat": NEW_PASSWORD, "csrf_token": before})
    assert refused.status_code == 400


def test_hostile_login_and_reset_input_gets_a_4xx(app):
    make_user("admin@example.org")
    client = app.test_client()
    assert login(client, "admin\x00@example.org").status_code == 422
    assert _forgot(client, "admin\x00@example.org").status_code == 422
    response = client.post("/admin/login?next=/admin/%0d%0aSet-Cookie:x=1", data={
        "email": "admin@example.org", "password": ADMIN_PASSWORD, "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    for path in ("/admin/reset/" + "x" * 5000, "/admin/invitations/" + "x" * 5000, "/admin/reset/%C3%BF%E2%80%AE"):
        assert client.get(path).status_code == 404
    assert client.get("/admin/invitations/99999999999999999999/accept").status_code == 405
    org = make_org("org-a")
    make_user("owner@example.org", (org, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    for path in ("/admin/invitations/2147483648/accept", "/admin/invitations/99999999999999999999/decline",
                 "/admin/orgs/org-a/invitations/2147483648/cancel"):
        assert post(owner, path, form_page="/admin/").status_code == 404, path


def test_web_logins_are_audited_under_the_accounts_name(app):
    make_user("admin@example.org")
    log_in(app, "admin@example.org")
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "login")).scalar_one()
    assert entry.actor == "admin@example.org" and entry.user_id is not None


def test_the_password_page_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        make_user("admin@example.org")
    client = log_in(app, "admin@example.org")  # one of the three
    token = csrf_token(client, "/admin/password")
    codes = [client.post("/admin/password", data={"current": f"guess {i}", "new": NEW_PASSWORD,
                                                  "repeat": NEW_PASSWORD, "csrf_token": token}).status_code
             for i in range(4)]
    assert codes == [422, 422, 422, 429]


def _client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_an_attacker_flooding_an_account_cannot_lock_its_holder_out(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        make_user("admin@example.org")
    # Guesses from many addresses: the account's failure limit is reached, each client stays under its own.
    for n in range(4):
        attacker = _client_from(app, f"203.0.113.{n}")
        assert {login(attacker, "admin@example.org", f"guess {n}-{i}").status_code for i in range(2)} <= {422, 429}
    fresh_attacker = _client_from(app, "203.0.113.99")
    assert login(fresh_attacker, "admin@example.org", "one more guess").status_code == 429
    holder = _client_from(app, "198.51.100.7")
    assert login(holder, "admin@example.org").status_code == 303
    assert logged_in(holder)


def test_a_client_over_its_own_limit_is_refused_even_with_the_right_password(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        make_user("admin@example.org")
    attacker = _client_from(app, "203.0.113.5")
    codes = [login(attacker, "admin@example.org", f"guess {i}").status_code for i in range(3)]
    assert codes == [422, 422, 422]
    assert login(attacker, "admin@example.org").status_code == 429


# -- 12.6: password recovery ---------------------------------------------------------------------------------------


def _forgot(client, address):
    return post(client, "/admin/forgot", {"email": address})


def test_forgot_password_answers_the_same_whether_or_not_the_address_has_an_account(app):
    make_user("admin@example.org")
    known, unknown = app.test_client(), app.test_client()
    a, b = _forgot(known, "admin@example.org"), _forgot(unknown, "nobody@example.org")
    assert (a.status_code, a.headers["Location"]) == (b.status_code, b.headers["Location"]) == (303, "/admin/forgot/sent")
    # the pages differ only in each visitor's own form token
    pages = [re.sub(rb'[A-Za-z0-9_.-]{40,}', b"TOKEN", c.get("/admin/forgot/sent").get_data()) for c in (known, unknown)]
    assert pages[0] == pages[1] and b"Check your mail" in pages[0]
    # the same work: one token row and one queued mail each
    assert db.session.execute(sa.select(sa.func.count()).select_from(AccountToken)).scalar_one() == 2
    queued = db.session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    payloads = [mailer.open_payload(m) for m in queued]
    assert [(m.kind, p["to"]) for m, p in zip(queued, payloads)] == [
        ("password_reset", "admin@example.org"), ("password_reset", "nobody@example.org")]
    bodies = [p["text"] for p in payloads]
    assert "/admin/reset/" in bodies[0] and "/admin/reset/" not in bodies[1]
    assert "there is no such account" in bodies[1]


def test_a_reset_link_sets_the_password_once_and_ends_every_session(mail_app, smtp):
    app = mail_app
    make_user("admin@example.org")
    laptop = log_in(app, "admin@example.org")
    phone = app.test_client()
    _forgot(phone, "ADMIN@example.org")
    mails = deliver(app, smtp)
    assert [m["To"] for m in mails] == ["admin@example.org"]
    path = admin_link(text_part(mails[0]), "reset")
    token = path.rsplit("/", 1)[1]
    stored = {t.token_hash for t in db.session.execute(sa.select(AccountToken)).scalars()}
    assert hashlib.sha256(token.encode()).hexdigest() in stored and token not in stored
    assert phone.get(path).status_code == 200
    short = post(phone, path, {"new": "short", "repeat": "short"})
    assert short.status_code == 422
    assert post(phone, path, {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 303
    assert not logged_in(laptop)
    assert phone.get(path).status_code == 404  # single use
    assert login(phone, "admin@example.org", NEW_PASSWORD).status_code == 303


def test_a_reset_link_expires(app):
    from datetime import datetime, timedelta, timezone

    make_user("admin@example.org")
    client = app.test_client()
    _forgot(client, "admin@example.org")
    path = admin_link(mailer.open_payload(db.session.execute(sa.select(OutboxMessage)).scalar_one())["text"], "reset")
    token = db.session.execute(sa.select(AccountToken)).scalar_one()
    token.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    assert client.get(path).status_code == 404
    assert post(client, path, {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}, form_page="/admin/login").status_code == 404


def test_forgot_password_is_rate_limited_per_address_across_clients(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET="2 per hour")
    with app.app_context():
        make_user("admin@example.org")
        codes = [_forgot(_client_from(app, f"203.0.113.{n}"), "admin@example.org").status_code for n in range(3)]
        assert codes == [303, 303, 429]
        assert db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage)).scalar_one() == 2
        assert _forgot(_client_from(app, "203.0.113.50"), "other@example.org").status_code == 303


# -- 12.6: two-factor login ----------------------------------------------------------------------------------------


ENROLMENT_CODES: list[str] = []


def _enrol(client) -> tuple[str, list[str]]:
    page = client.get("/admin/two-factor").get_data(as_text=True)
    assert "<svg" in page and "otpauth" not in page.split("<svg", 1)[0]  # the QR code is drawn inline, here
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    code = pyotp.TOTP(secret).now()
    ENROLMENT_CODES.append(code)
    response = post(client, "/admin/two-factor/enable", {"code": code}, "/admin/two-factor")
    assert response.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", response.get_data(as_text=True))
    return secret, codes


def test_two_factor_enrolment_shows_a_local_qr_code_and_ten_recovery_codes(app):
    make_user("admin@example.org")
    client = log_in(app, "admin@example.org")
    page = client.get("/admin/two-factor").get_data(as_text=True)
    assert re.search(r'<svg[^>]*class="qr"', page)
    assert 'src="http' not in page and "<img" not in page  # nothing fetched from anywhere to draw it
    wrong = post(client, "/admin/two-factor/enable", {"code": "000000"}, "/admin/two-factor")
    assert wrong.status_code == 422
    secret, codes = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    user = db.session.execute(sa.select(User)).scalar_one()
    db.session.refresh(user)
    assert user.totp_secret == secret
    stored = {r.code_hash for r in db.session.execute(sa.select(RecoveryCode)).scalars()}
    assert len(stored) == 10 and not any(c.replace("-", "") in stored for c in codes)


def test_login_asks_for_the_code_after_the_password(app):
    make_user("admin@example.org")
    secret, _ = _enrol(log_in(app, "admin@example.org"))
    client = app.test_client()
    response = login(client, "admin@example.org")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login/code")
    assert not logged_in(client)
    assert post(client, "/admin/login/code", {"code": "123456"}).status_code == 422
    assert not logged_in(client)
    # the code that confirmed the enrolment is used up; the next one (the app shows it within 30 s) works
    assert post(client, "/admin/login/code", {"code": ENROLMENT_CODES[-1]}).status_code == 422
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    assert post(client, "/admin/login/code", {"code": next_code}).status_code == 303
    assert logged_in(client)
    # the same code cannot be replayed for another login
    other = app.test_client()
    login(other, "admin@example.org")
    assert post(other, "/admin/login/code", {"code": next_code}).status_code == 422


def test_the_code_page_needs_the_password_first(app):
    make_user("admin@example.org")
    _enrol(log_in(app, "admin@example.org"))
    client = app.test_client()
    response = client.get("/admin/login/code")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")


def test_a_recovery_code_works_once(app):
    make_user("admin@example.org")
    _, codes = _enrol(log_in(app, "admin@example.org"))
    first = app.test_client()
    login(first, "admin@example.org")
    assert post(first, "/admin/login/code", {"code": codes[0]}).status_code == 303
    second = app.test_client()
    login(second, "admin@example.org")
    assert post(second, "/admin/login/code", {"code": codes[0]}).status_code == 422
    assert post(second, "/admin/login/code", {"code": codes[1].upper()}).status_code == 303


def test_two_factor_code_attempts_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="4 per minute")
    with app.app_context():
        make_user("admin@example.org")
        secret, _ = _enrol(log_in(app, "admin@example.org"))
    client = _client_from(app, "203.0.113.9")
    login(client, "admin@example.org")
    codes = [post(client, "/admin/login/code", {"code": f"00000{i}"}).status_code for i in range(5)]
    assert codes == [422, 422, 422, 422, 429]
    assert post(client, "/admin/login/code", {"code": pyotp.TOTP(secret).at(time.time() + 30)}).status_code == 429


def test_turning_two_factor_off_needs_the_password_and_a_code(app):
    make_user("admin@example.org")
    client = log_in(app, "admin@example.org")
    secret, _ = _enrol(client)
    totp = pyotp.TOTP(secret)
    next_code = totp.at(time.time() + 30)
    assert post(client, "/admin/two-factor/disable", {"password": "wrong password", "code": next_code},
                "/admin/two-factor").status_code == 422
    assert post(client, "/admin/two-factor/disable", {"password": ADMIN_PASSWORD, "code": next_code},
                "/admin/two-factor").status_code == 303
    user = db.session.execute(sa.select(User)).scalar_one()
    db.session.refresh(user)
    assert user.totp_secret is None
    assert db.session.execute(sa.select(sa.func.count()).select_from(RecoveryCode)).scalar_one() == 0
    assert login(app.test_client(), "admin@example.org").headers["Location"].endswith("/admin/")


def test_logs_never_carry_invitation_or_reset_tokens():
    from petition_app.security import scrub_log_text

    for line in ('"GET /admin/reset/Zm9vYmFyYmF6cXV4cXV1eA HTTP/1.1" 200',
                 '"POST /admin/invitations/Zm9vYmFyYmF6cXV4cXV1eA HTTP/1.1" 303'):
        scrubbed = scrub_log_text(line)
        assert "Zm9vYmFyYmF6cXV4cXV1eA" not in scrubbed and "/admin/" in scrubbed


def test_the_holder_gets_in_while_an_account_is_flooded_with_limits_in_redis(make_app):
    """The same with the shared limiter storage (Redis): the account's counter names neither account nor action."""
    import os

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis_or_skip(url)
    prefix = f"test-{uuid.uuid4().hex}:"  # only keys under this test's own prefix are read and deleted
    app = make_app(REDIS_URL=url, REDIS_KEY_PREFIX=prefix, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    try:
        with app.app_context():
            make_user("admin@example.org")
        codes = [login(_client_from(app, f"203.0.113.{n}"), "admin@example.org", "bad guess").status_code
                 for n in range(5)]
        assert codes == [422, 422, 422, 429, 429]
        assert login(_client_from(app, "198.51.100.7"), "admin@example.org").status_code == 303
        keys = [k.decode().removeprefix(prefix) for k in client.scan_iter(match=prefix + "*")]
        assert keys and not any("admin@" in k or "login" in k or "failure" in k for k in keys)
    finally:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()

"""Admin accounts: login, logout, password change, rate limits, and the users/orgs command line."""

from __future__ import annotations

import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import AuditEntry, Membership, Organisation, Role, User
from petition_app.passwords import verify_password
from tests.conftest import ADMIN_PASSWORD, csrf_token, log_in, make_org, make_user


def _login(client, email, password):
    return client.post("/admin/login", data={"email": email, "password": password,
                                             "csrf_token": csrf_token(client, "/admin/login")})


def test_login_with_the_right_password_reaches_the_dashboard(app, client):
    make_user("admin@example.org", superuser=True)
    response = _login(client, "ADMIN@example.org", ADMIN_PASSWORD)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/")
    assert client.get("/admin/").status_code == 200


def test_wrong_password_and_unknown_account_get_the_same_answer(app, client):
    make_user("admin@example.org")
    wrong = _login(client, "admin@example.org", "not the password")
    unknown = _login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong email or password." in wrong.get_data(as_text=True)
    assert "Wrong email or password." in unknown.get_data(as_text=True)


def test_login_only_redirects_inside_the_admin(app, client):
    make_user("admin@example.org")
    response = client.post("/admin/login?next=https://evil.example/", data={
        "email": "admin@example.org", "password": ADMIN_PASSWORD, "csrf_token": csrf_token(client, "/admin/login")})
    assert response.headers["Location"].endswith("/admin/")


def test_logout_needs_a_post_and_ends_the_session(app):
    make_user("admin@example.org")
    client = log_in(app, "admin@example.org")
    assert client.get("/admin/logout").status_code == 405
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert client.get("/admin/").status_code == 303


def test_changing_the_password_ends_other_sessions(app):
    make_user("admin@example.org")
    phone, laptop = log_in(app, "admin@example.org"), log_in(app, "admin@example.org")
    response = phone.post("/admin/password", data={
        "current": ADMIN_PASSWORD, "new": "a brand new passphrase", "repeat": "a brand new passphrase",
        "csrf_token": csrf_token(phone, "/admin/password")})
    assert response.status_code == 303
    assert phone.get("/admin/").status_code == 200
    assert laptop.get("/admin/").status_code == 303  # logged out
    user = db.session.execute(sa.select(User)).scalar_one()
    db.session.refresh(user)
    assert verify_password(user.password_hash, "a brand new passphrase")


def test_password_change_checks_current_length_and_repeat(app):
    make_user("admin@example.org")
    client = log_in(app, "admin@example.org")
    token = csrf_token(client, "/admin/password")
    for data, message in [({"current": "wrong", "new": "a brand new passphrase", "repeat": "a brand new passphrase"},
                           "not your current password"),
                          ({"current": ADMIN_PASSWORD, "new": "short", "repeat": "short"}, "at least 12"),
                          ({"current": ADMIN_PASSWORD, "new": "a brand new passphrase", "repeat": "different one!!"},
                           "differ")]:
        response = client.post("/admin/password", data={**data, "csrf_token": token})
        assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_login_attempts_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        make_user("admin@example.org")
    client = app.test_client()
    codes = [_login(client, "admin@example.org", f"guess {i}").status_code for i in range(4)]
    assert codes == [422, 422, 422, 429]
    assert "Please slow down" in _login(client, "admin@example.org", ADMIN_PASSWORD).get_data(as_text=True)


def test_session_cookie_is_secure_on_https(make_app):
    app = make_app(PUBLIC_URL="https://petitions.example.org")
    with app.app_context():
        make_user("admin@example.org")
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # a Secure cookie only comes back over https
    response = _login(client, "admin@example.org", ADMIN_PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cli_creates_organisations_and_users_with_roles(app, runner):
    assert runner.invoke(args=["orgs", "create", "sphere", "--name", "Sphere Foundation"]).exit_code == 0
    assert runner.invoke(args=["orgs", "create", "sphere", "--name", "Again"]).exit_code != 0
    assert runner.invoke(args=["orgs", "create", "Bad Slug!", "--name", "X"]).exit_code != 0
    result = runner.invoke(args=["users", "create", "owner@example.org", "--password-stdin", "--org", "sphere",
                                 "--role", "owner"], input="a good long password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "root@example.org", "--password-stdin", "--superuser"],
                           input="another long password\n")
    assert result.exit_code == 0
    short = runner.invoke(args=["users", "create", "x@example.org", "--password-stdin"], input="short\n")
    assert short.exit_code != 0
    listing = runner.invoke(args=["orgs", "list"]).output.splitlines()
    assert listing == ["sphere\tSphere Foundation"]
    owner = db.session.execute(sa.select(User).where(User.email == "owner@example.org")).scalar_one()
    org = db.session.execute(sa.select(Organisation)).scalar_one()
    assert owner.role_in(org.id) == Role.OWNER and not owner.is_superuser
    assert db.session.execute(sa.select(User).where(User.email == "root@example.org")).scalar_one().is_superuser
    assert verify_password(owner.password_hash, "a good long password")
    assert db.session.execute(sa.select(sa.func.count()).select_from(Membership)).scalar_one() == 1
    assert {e.action for e in db.session.execute(sa.select(AuditEntry)).scalars()} >= {
        "organisation created", "member set"}


def test_owner_adds_a_member_by_invitation_and_never_sees_a_password(app):
    org = make_org("org-a")
    make_user("owner@example.org", (org, Role.OWNER))
    client = log_in(app, "owner@example.org")
    response = client.post("/admin/orgs/org-a", data={"email": "new@example.org", "role": "editor",
                                                      "csrf_token": csrf_token(client, "/admin/orgs/org-a")})
    assert response.status_code == 303
    page = client.get("/admin/orgs/org-a").get_data(as_text=True)
    assert "An invitation was mailed to new@example.org" in page
    assert "one-time password" not in page and "<code>" not in page
    assert db.session.execute(sa.select(User).where(User.email == "new@example.org")).scalar() is None


def test_the_last_owner_cannot_be_removed(app):
    org = make_org("org-a")
    owner = make_user("owner@example.org", (org, Role.OWNER))
    client = log_in(app, "owner@example.org")
    membership = owner.memberships[0].id
    client.post(f"/admin/orgs/org-a/members/{membership}/remove", data={"csrf_token": csrf_token(client, "/admin/")})
    assert db.session.execute(sa.select(sa.func.count()).select_from(Membership)).scalar_one() == 1

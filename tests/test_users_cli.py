"""flask users ...: set-password, list, disable, enable, delete, create; and a clear stop without a database."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from petition_app import mailer
from petition_app.extensions import db
from petition_app.models import AuditEntry, Membership, Role, User
from petition_app.passwords import verify_password
from tests.conftest import ROOT, csrf_token, log_in, make_org, make_user

NEW_PASSWORD = "a fresh long password"


def _logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_create_refuses_an_existing_account_and_changes_nothing(app, runner):
    org = make_org("org-a")
    user = make_user("admin@example.org")
    before = user.password_hash
    result = runner.invoke(args=["users", "create", "ADMIN@example.org", "--password-stdin", "--superuser",
                                 "--org", "org-a", "--role", "owner"], input="another long password\n")
    assert result.exit_code != 0
    assert "exists already" in result.output
    db.session.expire_all()
    assert user.password_hash == before and not user.is_superuser and user.role_in(org.id) is None


def test_invite_mails_a_link_instead_of_setting_a_password(app, runner):
    from petition_app.models import Invitation, OutboxMessage

    org = make_org("org-a")
    result = runner.invoke(args=["users", "invite", "new@example.org", "--org", "org-a", "--role", "owner"])
    assert result.exit_code == 0, result.output
    assert db.session.execute(sa.select(User)).scalar() is None
    invitation = db.session.execute(sa.select(Invitation)).scalar_one()
    assert (invitation.organisation_id, invitation.role, invitation.email) == (org.id, Role.OWNER, "new@example.org")
    mail = db.session.execute(sa.select(OutboxMessage)).scalar_one()
    payload = mailer.open_payload(mail)
    assert payload["to"] == "new@example.org" and "http://localhost/admin/invitations/" in payload["text"]
    assert runner.invoke(args=["users", "invite", "x@example.org", "--org", "nope"]).exit_code != 0


def test_set_password_from_stdin_ends_every_session(app, runner):
    user = make_user("admin@example.org")
    session = log_in(app, "admin@example.org")
    user.must_reset_password = True
    db.session.commit()
    result = runner.invoke(args=["users", "set-password", "admin@example.org", "--password-stdin"],
                           input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert verify_password(user.password_hash, NEW_PASSWORD) and not user.must_reset_password
    assert not _logged_in(session)
    assert runner.invoke(args=["users", "set-password", "admin@example.org", "--password-stdin"],
                         input="short\n").exit_code != 0
    assert runner.invoke(args=["users", "set-password", "nobody@example.org", "--password-stdin"],
                         input=NEW_PASSWORD + "\n").exit_code != 0


def test_list_shows_accounts_state_and_roles(app, runner):
    org = make_org("org-a")
    make_user("b@example.org", (org, Role.EDITOR))
    make_user("a@example.org", superuser=True)
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    assert lines == ["a@example.org\tactive,superuser\t-", "b@example.org\tactive\t-\torg-a:editor"]


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(app, runner):
    make_user("admin@example.org")
    session = log_in(app, "admin@example.org")
    result = runner.invoke(args=["users", "disable", "admin@example.org"])
    assert result.exit_code == 0, result.output
    assert not _logged_in(session)
    client = app.test_client()
    response = client.post("/admin/login", data={"email": "admin@example.org", "password": "a long enough test password",
                                                 "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 422
    assert runner.invoke(args=["users", "enable", "admin@example.org"]).exit_code == 0
    log_in(app, "admin@example.org")
    assert {e.action for e in db.session.execute(sa.select(AuditEntry)).scalars()} >= {
        "account disabled", "account enabled"}


def test_delete_removes_the_account_but_not_an_organisations_last_owner(app, runner):
    org = make_org("org-a")
    make_user("owner@example.org", (org, Role.OWNER))
    make_user("viewer@example.org", (org, Role.VIEWER))
    refused = runner.invoke(args=["users", "delete", "owner@example.org", "--yes"])
    assert refused.exit_code != 0 and "last owner" in refused.output
    assert runner.invoke(args=["users", "delete", "viewer@example.org", "--yes"]).exit_code == 0
    assert db.session.execute(sa.select(User.email)).scalars().all() == ["owner@example.org"]
    assert db.session.execute(sa.select(sa.func.count()).select_from(Membership)).scalar_one() == 1


def test_disable_two_factor_for_a_lost_phone(app, runner):
    from petition_app.admin import accounts

    user = make_user("admin@example.org")
    accounts.enable_two_factor(user, accounts.new_totp_secret())
    db.session.commit()
    session = log_in(app, "admin@example.org")  # password, then ...
    assert session.get("/admin/").status_code == 303  # ... a code is still needed
    assert runner.invoke(args=["users", "disable-two-factor", "admin@example.org"]).exit_code == 0
    db.session.expire_all()
    assert user.totp_secret is None
    assert _logged_in(log_in(app, "admin@example.org"))


# -- run without the app's environment -------------------------------------------------------------------------------


def test_the_cli_stops_clearly_without_a_database_and_creates_nothing(tmp_path):
    """CliRunner, in-process: no DATABASE_URL, no SECRET_KEY, an empty instance folder."""
    from petition_app import create_app

    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": "", "SECRET_KEY": ""})
    with app.app_context():  # the app's own default: a SQLite file in instance/
        assert db.engine.url.database == str(instance / "petition_app.sqlite3")
    for args in (["users", "list"], ["orgs", "create", "x", "--name", "X"], ["worker", "--once"], ["purge"],
                 ["recount"], ["demo", "load"], ["keys", "generate", "x"], ["export", "x"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code != 0, args
        assert "run `flask db upgrade` first" in result.output and "Traceback" not in result.output, args
    assert sorted(p.name for p in instance.iterdir()) == []  # no database file, no secret key


def test_the_cli_stops_clearly_on_a_database_without_tables(tmp_path):
    from petition_app import create_app

    url = "sqlite:///" + str(tmp_path / "empty.sqlite3")
    sa.create_engine(url).connect().close()  # an existing, empty database
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url, "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["orgs", "list"])
    assert result.exit_code != 0 and "no tables" in result.output


def test_the_flask_command_without_the_environment_fails_clearly(tmp_path):
    """A real `flask` process, as a sysadmin would run it: exit 1, one clear line, no files."""
    instance = tmp_path / "instance"
    (tmp_path / "siteapp.py").write_text(
        "from petition_app import create_app\n"
        f"app = create_app({{'INSTANCE_PATH': {str(instance)!r}}})\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{tmp_path}"
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "siteapp", "users", "create", "x@example.org",
                           "--password-stdin"], input="a long enough password\n", capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "No database at" in done.stderr and "flask db upgrade" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (instance / "petition_app.sqlite3").exists() and not (instance / "secret_key").exists()

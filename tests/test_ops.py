"""Operations: flask check, /healthz, catalogues however installed, backup and restore, private instance files."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from tests.conftest import ON_POSTGRES, ROOT, _require

SOUND = {
    "PUBLIC_URL": "https://petitions.example.org",
    "MAIL_SERVER": "smtp.example.org",
    "TRUSTED_PROXIES": 1,
}


def run_check(app, *args):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["check", *args])


# -- flask check ---------------------------------------------------------------------------------------------------

def test_check_passes_a_sound_configuration(make_app):
    result = run_check(make_app(**SOUND), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "Configuration is sound." in result.output


@pytest.mark.parametrize(("overrides", "code"), [
    ({"PUBLIC_URL": "http://petitions.example.org"}, "public-url-not-https"),
    ({"MAIL_SERVER": None}, "no-mail-server"),
])
def test_check_fails_on_a_broken_configuration(make_app, overrides, code):
    result = run_check(make_app(**{**SOUND, **overrides}), "--workers", "1")
    assert result.exit_code == 1
    assert f"ERROR [{code}]" in result.output


def test_an_onion_address_may_stay_http_and_loopback_needs_no_mail_server(make_app):
    assert run_check(make_app(**{**SOUND, "PUBLIC_URL": "http://abcdef.onion"}), "--workers", "1").exit_code == 0
    assert run_check(make_app(PUBLIC_URL="http://127.0.0.1:5000", MAIL_SERVER=None), "--workers", "1").exit_code == 0


def test_forwarded_requests_without_trusted_proxies_are_reported_in_check_and_admin(make_app):
    from tests.conftest import log_in, make_user

    app = make_app(**{**SOUND, "TRUSTED_PROXIES": 0})
    assert run_check(app, "--workers", "1").exit_code == 0
    client = app.test_client()
    client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    result = run_check(app, "--workers", "1")
    assert result.exit_code == 1 and "forwarded-not-trusted" in result.output
    with app.app_context():
        make_user("root@example.org", superuser=True)
    admin = log_in(app, "root@example.org")
    page = admin.get("/admin/").get_data(as_text=True)
    assert "This server is not configured safely" in page and "TRUSTED_PROXIES=0" in page


def test_several_workers_without_redis_and_a_generated_secret_on_postgresql_are_warned(make_app):
    app = make_app(**SOUND)
    result = run_check(app, "--workers", "3")
    assert result.exit_code == 0  # warnings, not errors
    assert "WARNING [limits-per-worker] 3 workers and no REDIS_URL" in result.output
    app.config["SECRET_KEY_FROM_INSTANCE"] = True
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://db.example.org/petitions"
    assert "WARNING [secret-in-instance]" in run_check(app, "--workers", "1").output


def test_check_reports_a_missing_catalogue(make_app, tmp_path):
    app = make_app(**SOUND)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)  # where no compiled catalogue is
    result = run_check(app, "--workers", "1")
    assert result.exit_code == 1 and "ERROR [catalogue-missing] The ru catalogue" in result.output


# -- /healthz ------------------------------------------------------------------------------------------------------

def test_healthz_reports_migrations_not_applied_with_503(client):
    response = client.get("/healthz")  # the test tables are made by create_all, not by migrations
    assert response.status_code == 503
    assert "migrations not applied" in response.get_json()["problems"][0]
    assert "Set-Cookie" not in response.headers


@pytest.fixture
def migrated_app(tmp_path):
    from flask_migrate import upgrade

    from petition_app import create_app

    app = create_app({"DATABASE_URL": "sqlite:///" + str(tmp_path / "m.sqlite3"), "SECRET_KEY": "x",
                      "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_healthz_is_small_json_and_names_a_stalled_outbox(migrated_app):
    from petition_app.models import OutboxMessage

    client = migrated_app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "current",
                                   "outbox": {"due": 0, "oldest_due_seconds": 0}}
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"
    with migrated_app.app_context():
        db.session.add(OutboxMessage(kind="confirm", message_id=f"<{uuid.uuid4()}@x>",
                                     next_attempt_at=datetime.now(timezone.utc) - timedelta(hours=1)))
        db.session.commit()
    for _ in range(50):  # polled often, never rate-limited
        response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and body["outbox"]["due"] == 1
    assert body["outbox"]["oldest_due_seconds"] >= 3599
    assert "is the worker running?" in body["problems"][0]
    assert "a@example.org" not in response.get_data(as_text=True)


def test_healthz_names_an_unreachable_redis(migrated_app):
    migrated_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    response = migrated_app.test_client().get("/healthz")
    assert response.status_code == 503 and "redis unreachable" in response.get_json()["problems"]


# -- catalogues ----------------------------------------------------------------------------------------------------

def test_a_plain_install_without_compiled_catalogues_serves_the_russian_ui(tmp_path):
    """A checkout where nobody ran `make install` or pybabel: the app compiles what it needs as it starts."""
    copy = tmp_path / "checkout"
    copy.mkdir()
    for name in ("petition_app", "templates", "static", "migrations"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("*.mo", "__pycache__"))
    shutil.copy(ROOT / "wsgi.py", copy / "wsgi.py")
    assert not list(copy.rglob("*.mo"))
    script = (
        "from petition_app import create_app\n"
        "app = create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x', 'TESTING': True})\n"
        "print(app.test_client().get('/healthz', headers={'Accept-Language': 'ru'}).status_code)\n"
        "print(app.test_client().get('/privacy', headers={'Accept-Language': 'ru'}).get_data(as_text=True))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=copy, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(copy)})
    assert result.returncode == 0, result.stderr
    assert (copy / "petition_app/translations/ru/LC_MESSAGES/messages.mo").exists()
    assert "Кампании" in result.stdout or "Конфиденциальность" in result.stdout
    assert 'lang="ru"' in result.stdout


# -- backup and restore --------------------------------------------------------------------------------------------

def _rows(connection) -> dict[str, list]:
    tables = ("organisations", "campaigns", "signatures", "outbox")
    return {t: [tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {t} ORDER BY id"))] for t in tables}


def _signed_campaign(client, make_campaign, n=3):
    from tests.conftest import sign_data

    campaign = make_campaign()
    data = sign_data(client, campaign.slug)
    for i in range(n):
        assert client.post(f"/campaigns/{campaign.slug}/sign",
                           data={**data, "email": f"b{i}@example.org"}).status_code == 303
    return campaign


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite backup; the PostgreSQL one is the next test")
def test_sqlite_backup_restores_into_a_fresh_database_with_identical_rows(app, client, runner, make_campaign,
                                                                          tmp_path):
    _signed_campaign(client, make_campaign)
    output = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(output)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    with db.engine.connect() as connection:
        before = _rows(connection)
    assert len(before["signatures"]) == 3

    from petition_app import create_app

    fresh = create_app({"DATABASE_URL": "sqlite:///" + str(tmp_path / "fresh.sqlite3"), "SECRET_KEY": "x",
                        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "i2")})
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["restore", str(output)])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as connection:
            assert _rows(connection) == before
        again = fresh.test_cli_runner().invoke(args=["restore", str(output)])
        assert again.exit_code == 1 and "not empty" in again.output
        db.engine.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (DATABASE_URL)")
def test_postgresql_backup_restores_into_a_new_database_with_identical_rows(app, client, runner, make_campaign,
                                                                           tmp_path):
    if shutil.which("pg_dump") is None:
        if _require("REQUIRE_POSTGRES"):
            pytest.fail("pg_dump is required with REQUIRE_POSTGRES=1")
        pytest.skip("pg_dump is not installed")
    _signed_campaign(client, make_campaign)
    output = tmp_path / "backup.pgdump"
    result = runner.invoke(args=["backup", str(output)])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:
        before = _rows(connection)
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = "restore_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        from petition_app import create_app

        target_url = url.set(database=name).render_as_string(hide_password=False)
        fresh = create_app({"DATABASE_URL": target_url, "SECRET_KEY": "x", "TESTING": True,
                            "INSTANCE_PATH": str(tmp_path / "i2")})
        with fresh.app_context():
            result = fresh.test_cli_runner().invoke(args=["restore", str(output)])
            assert result.exit_code == 0, result.output
            with db.engine.connect() as connection:
                assert _rows(connection) == before
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_without_pg_dump_says_what_to_install(monkeypatch, tmp_path):
    from petition_app import backup

    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without PostgreSQL's client tools
    with pytest.raises(backup.BackupError, match="pg_dump not found: install PostgreSQL's client tools"):
        backup.backup("postgresql+psycopg://postgres@127.0.0.1/none", tmp_path / "x")


# -- file permissions ----------------------------------------------------------------------------------------------

def test_instance_folder_database_and_secret_files_are_private(tmp_path):
    from petition_app import create_app

    instance = tmp_path / "instance"
    old = os.umask(0o022)  # a typical login shell's umask
    try:
        app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True,
                          "DATABASE_URL": "sqlite:///" + str(instance / "petition_app.sqlite3")})
        with app.app_context():
            db.create_all()
            from petition_app.models import Organisation

            db.session.add(Organisation(slug="p", name="P"))
            db.session.commit()
            assert app.config["SECRET_KEY"]  # a generated secret is written when first read
            files = [instance / "petition_app.sqlite3", instance / "petition_app.sqlite3-wal",
                     instance / "petition_app.sqlite3-shm", instance / "secret_key"]
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
            db.session.remove()
            db.engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert modes == {p.name: 0o600 for p in files}
    with sqlite3.connect(files[0]) as connection:
        assert connection.execute("SELECT slug FROM organisations").fetchone() == ("p",)


def test_json_of_healthz_is_parseable_for_monitors(migrated_app):
    assert json.loads(migrated_app.test_client().get("/healthz").get_data())["status"] == "ok"


def test_a_read_only_package_gets_its_catalogues_compiled_into_instance(tmp_path, monkeypatch):
    """Under systemd's ProtectSystem=strict the checkout is read-only: the compiled catalogue goes to instance/."""
    import gettext

    from flask import Flask

    from petition_app import catalogues

    package = tmp_path / "translations"
    shutil.copytree(catalogues.PACKAGE_CATALOGUES, package, ignore=shutil.ignore_patterns("*.mo", "pending"))
    monkeypatch.setattr(catalogues, "PACKAGE_CATALOGUES", package)
    monkeypatch.setattr(catalogues.os, "access", lambda path, mode: Path(path) != package)
    app = Flask("t", instance_path=str(tmp_path / "instance"))
    catalogues.ensure_compiled(app)
    compiled = tmp_path / "instance/translations/ru/LC_MESSAGES/messages.mo"
    assert compiled.exists() and not list(package.rglob("*.mo"))
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == f"{tmp_path / 'instance/translations'};{package}"
    with compiled.open("rb") as fh:
        assert gettext.GNUTranslations(fh).gettext("Sign") != "Sign"


def test_the_example_environment_file_reads_in_the_shell_and_names_only_documented_settings():
    example = ROOT / "deploy/petition_app.env.example"
    result = subprocess.run(["bash", "-c", f"set -a; . {example}; env"], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"]}, check=True)
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert values["MAIL_DEFAULT_SENDER"] == "Petitions <petitions@example.org>"
    assert values["TRUSTED_PROXIES"] == "1" and values["PUBLIC_URL"].startswith("https://")
    readme = (ROOT / "README.md").read_text()
    names = re.findall(r"^(?:# )?([A-Z][A-Z_]+)=", example.read_text(), re.MULTILINE)
    assert len(names) > 10 and all(f"`{name}`" in readme for name in names), [n for n in names if f"`{n}`" not in readme]

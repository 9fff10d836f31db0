"""Sealed signers' names and addresses never reach the database's files in plaintext, and withdrawn signers' data
leaves no copy in them: scans of the raw files of SQLite (main, -wal, -shm) and of a PostgreSQL cluster started here."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from petition_app import create_app, mailer, sealing
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Organisation, Signature
from tests.conftest import IsolatedClient, _require, csrf_token
from tests.mailbox import SMTPServer, free_port, link, text_part

SEALED = {"first_name": "Quillonde", "last_name": "Vexhammerova", "email": "quillonde.vexhammer@example.org"}
PLAIN = {"first_name": "Brannoval", "last_name": "Oszkarenko", "email": "brannoval.oszkarenko@example.org"}


def _needles(person: dict) -> list[bytes]:
    values = [person["first_name"], person["last_name"], person["email"], person["email"].split("@")[0]]
    return [v.encode() for v in values] + [v.encode("utf-16-le") for v in values]


def _found(files: list[Path], person: dict) -> list[tuple[str, str]]:
    hits = []
    for path in files:
        if not path.is_file():
            continue
        content = path.read_bytes()
        hits += [(str(path), needle.decode("utf-8", "replace")) for needle in _needles(person) if needle in content]
    return hits


def _setup(sealed_org: bool = True) -> None:
    db.create_all()
    public_key, _private = sealing.generate_keypair()
    sealed = Organisation(slug="sealed", name="Sealed", public_key=public_key)
    plain = Organisation(slug="plain", name="Plain")
    db.session.add_all([
        Campaign(slug="sealed-c", title="Sealed campaign", organisation=sealed, status=CampaignStatus.OPEN, goal=10),
        Campaign(slug="plain-c", title="Plain campaign", organisation=plain, status=CampaignStatus.OPEN, goal=10),
    ])
    db.session.commit()


def _sign(app, slug: str, person: dict) -> None:
    client = app.test_client()
    data = {**person, "country": "DE", "csrf_token": csrf_token(client, f"/campaigns/{slug}")}
    assert client.post(f"/campaigns/{slug}/sign", data=data).status_code == 303


def _withdraw(app, smtp) -> None:
    url = link(text_part(smtp.box.messages[-1]), "withdraw").split("://", 1)[1].split("/", 1)[1]
    client = app.test_client()
    response = client.post(f"/{url}", data={"csrf_token": csrf_token(client, f"/{url}")})
    assert response.status_code == 200


def test_sqlite_files_hold_no_sealed_signer_in_plaintext_and_no_withdrawn_one(make_app, tmp_path):
    smtp = SMTPServer().start()
    path = tmp_path / "scan.sqlite3"
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    try:
        app = make_app(DATABASE_URL=f"sqlite:///{path}", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        with app.app_context():
            _setup()
            _sign(app, "sealed-c", SEALED)
            assert _found(files, SEALED) == []  # queued: the outbox holds ciphertext only
            assert mailer.send_due() == 1
            assert _found(files, SEALED) == []  # sent
            assert SEALED["first_name"] in text_part(smtp.box.messages[0])  # (the mail itself did carry the name)

            _sign(app, "plain-c", PLAIN)
            assert mailer.send_due() == 1
            assert _found(files, PLAIN), "the scan must see a plain organisation's signer before the withdrawal"
            _withdraw(app, smtp)
            db.session.remove()
            assert db.session.execute(sa.select(Signature.id)).scalars().all() == [1]  # only the sealed one left
            assert _found(files, PLAIN) == []
            assert _found(files, SEALED) == []
    finally:
        smtp.stop()


# -- PostgreSQL: a cluster of the test's own, so that its files can be read --------------------------------------

def _pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


class Cluster:
    """A throw-away PostgreSQL cluster in a temporary folder, on a free port, run as a non-root user."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="petition-pgscan-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.user = "postgres"
            account = pwd.getpwnam(self.user)
            os.chown(self.root, account.pw_uid, account.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off"
        self._run(self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "server.log", "-w", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def files(self) -> list[Path]:
        return [p for folder in ("base", "global", "pg_wal") for p in (self.data / folder).rglob("*") if p.is_file()]


def test_postgresql_files_hold_no_sealed_signer_in_plaintext(app_config):
    bin_dir = _pg_bin()
    if bin_dir is None:
        if _require("REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are required (REQUIRE_POSTGRES=1)")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    cluster = Cluster(bin_dir)
    smtp = SMTPServer().start()
    app = None
    try:
        url = cluster.start()
        app = create_app({**app_config, "DATABASE_URL": url, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port})
        app.test_client_class = IsolatedClient
        with app.app_context():
            _setup()

            def checkpointed_files() -> list[Path]:
                db.session.remove()
                with db.engine.connect() as conn:
                    conn.execute(sa.text("CHECKPOINT"))
                return cluster.files()

            _sign(app, "plain-c", PLAIN)
            assert _found(checkpointed_files(), PLAIN), "the scan must see a plain organisation's signer"

            _sign(app, "sealed-c", SEALED)
            assert _found(checkpointed_files(), SEALED) == []  # queued
            assert mailer.send_due() == 2
            assert SEALED["first_name"] in text_part(smtp.box.messages[-1])
            assert _found(checkpointed_files(), SEALED) == []  # sent
            db.session.remove()
            db.engine.dispose()
    finally:
        smtp.stop()
        cluster.stop()


def test_sqlite_files_keep_no_copy_of_signers_deleted_by_the_purge(make_app, tmp_path):
    path = tmp_path / "purge.sqlite3"
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    app = make_app(DATABASE_URL=f"sqlite:///{path}", MAIL_SERVER="", MAIL_DIR=str(tmp_path / "mail"))
    with app.app_context():
        _setup()
        _sign(app, "plain-c", PLAIN)
        assert mailer.send_due() == 1
        old = datetime.now(timezone.utc) - timedelta(days=31)
        db.session.execute(sa.update(Signature).values(created_at=old))
        db.session.commit()
        assert _found(files, PLAIN), "the scan must see the signer before the purge"
        result = app.test_cli_runner().invoke(args=["purge"])
        assert "plain-c: deleted 1 unconfirmed signatures" in result.output
        db.session.remove()
        assert _found(files, PLAIN) == []

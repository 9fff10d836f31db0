"""flask backup / flask restore: SQLite through the online backup API, PostgreSQL through pg_dump/pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # noqa: S404  (pg_dump and pg_restore, with argument lists, never a shell)
import tarfile
from pathlib import Path
from urllib.parse import parse_qs

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url


class BackupError(click.ClickException):
    pass


def _sqlite_path(uri: str) -> Path:
    database = make_url(uri).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _private_file(path: Path) -> None:
    """Create (or truncate) path readable by its owner only: a backup holds everything the database holds."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)


def _libpq(uri: str) -> tuple[str, dict[str, str], str | None]:
    """A libpq connection URI without the password (that goes in PGPASSWORD), and the schema named by search_path."""
    url = make_url(uri)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    schema = None
    options = url.query.get("options")
    if options:
        for part in (options if isinstance(options, tuple) else (options,)):
            values = parse_qs(part.replace("-c", "").replace(" ", "&"))
            if "search_path" in values:
                schema = values["search_path"][0].split(",")[0].strip()
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env, schema


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client tools (Debian: apt install postgresql-client)")
    return path


def backup(uri: str, output: Path) -> None:
    """Write a consistent copy of the database to output (created 0600)."""
    if uri.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(uri))
        _private_file(output)
        target = sqlite3.connect(output)
        try:
            with target:
                source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
        return
    connection, env, schema = _libpq(uri)
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(output)]
    if schema:
        command += ["--schema", schema]
    _private_file(output)
    result = subprocess.run([*command, connection], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        output.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def _has_tables(uri: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(uri)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def restore(uri: str, source: Path) -> None:
    """Load a backup into an empty database."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if _has_tables(uri):
        raise BackupError("the target database is not empty: restore into a new, empty database")
    if uri.startswith("sqlite"):
        target_path = _sqlite_path(uri)
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not an SQLite backup: {error}") from error
        target = sqlite3.connect(target_path)
        try:
            with target:
                backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
        for path in (target_path, Path(f"{target_path}-wal"), Path(f"{target_path}-shm")):
            if path.exists():
                os.chmod(path, 0o600)
        return
    connection, env, _schema = _libpq(uri)
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", connection,
               str(source)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def media_archive(output: Path) -> Path:
    """Where the pictures that go with a database backup are kept: next to it, `<backup>.media.tar`."""
    return output.with_name(output.name + ".media.tar")


def backup_media(media_dir: Path, output: Path) -> int:
    """Write the uploaded pictures (not the share cards, which are redrawn) to a tar file next to the backup."""
    from petition_app.images import FILE_NAME

    files = sorted(p for p in media_dir.glob("*") if p.is_file() and FILE_NAME.match(p.name)) \
        if media_dir.is_dir() else []
    archive = media_archive(output)
    _private_file(archive)
    with tarfile.open(archive, "w") as tar:
        for path in files:
            tar.add(path, arcname=path.name, recursive=False)
    return len(files)


def restore_media(source: Path, media_dir: Path) -> int:
    """Put back the pictures saved with a backup, if any; only the file names the app itself writes are taken."""
    from petition_app.images import FILE_NAME

    archive = media_archive(source)
    if not archive.is_file():
        return 0
    media_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        with tarfile.open(archive, "r") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and FILE_NAME.match(m.name)]
            tar.extractall(media_dir, members=members, filter="data")
            count = len(members)
    except tarfile.TarError as error:
        raise BackupError(f"{archive} is not a picture archive made by `flask backup`: {error}") from error
    return count


@click.command("backup")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(output: Path) -> None:
    """Write a consistent copy of the database to OUTPUT (SQLite file, or pg_dump's custom format)."""
    backup(current_app.config["SQLALCHEMY_DATABASE_URI"], output)
    pictures = backup_media(Path(current_app.config["MEDIA_DIR"]), output)
    click.echo(f"{pictures} picture files written to {media_archive(output)}.")
    click.echo(f"Backup written to {output}. It holds signer data: keep it encrypted, apart from SECRET_KEY, "
               "SIGNER_HASH_KEY and the organisations' private keys.")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(source: Path) -> None:
    """Load a backup made by `flask backup` into the configured (new, empty) database."""
    restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    pictures = restore_media(source, Path(current_app.config["MEDIA_DIR"]))
    if pictures:
        click.echo(f"{pictures} picture files restored to {current_app.config['MEDIA_DIR']}.")
    click.echo(f"Restored {source}. Run `flask db upgrade` if the backup is older than this version.")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

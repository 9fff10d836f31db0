"""Configuration checks: `flask check`, the log at server start, and a notice at the top of the admin."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, request
from flask.cli import with_appcontext

from petition_app import catalogues, timezones

log = logging.getLogger(__name__)
FORWARDED_MARKER = "forwarded-requests-seen"
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    level: str  # ERROR: the site misbehaves as configured; WARNING: a risk the operator should know about
    code: str
    message: str


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def development(app: Flask) -> bool:
    """A site whose public address is this machine's loopback: `make run`, tests, a laptop."""
    return _loopback(urlsplit(app.config["PUBLIC_URL"]).hostname or "")


def find_problems(app: Flask, workers: int | None = None) -> list[Finding]:
    """Everything wrong or risky in this configuration, errors first."""
    config = app.config
    findings: list[Finding] = []
    url = urlsplit(config["PUBLIC_URL"])
    host = url.hostname or ""

    if not config.get("TRUSTED_PROXIES") and (Path(app.instance_path) / FORWARDED_MARKER).exists():
        findings.append(Finding(ERROR, "forwarded-not-trusted",
                                "Requests arrive with X-Forwarded-For but TRUSTED_PROXIES=0: every visitor shares "
                                "the proxy's rate limit. Set TRUSTED_PROXIES=1 behind one reverse proxy."))
    if url.scheme != "https" and not _loopback(host) and not host.endswith(".onion"):
        findings.append(Finding(ERROR, "public-url-not-https",
                                f"PUBLIC_URL is {config['PUBLIC_URL']}: links in mails and cookies travel without "
                                "TLS. Use an https:// address (an onion address may stay http://)."))
    if not config.get("MAIL_SERVER") and not development(app):
        findings.append(Finding(ERROR, "no-mail-server",
                                "MAIL_SERVER is not set: confirmation mails are written to files under "
                                f"{config['MAIL_DIR']} instead of being sent."))
    for po in catalogues.sources():
        directories = [Path(d) for d in str(config.get("BABEL_TRANSLATION_DIRECTORIES", "")).split(";") if d]
        if catalogues.compiled_for(po, directories) is None:
            language = po.parents[1].name
            findings.append(Finding(ERROR, "catalogue-missing",
                                    f"The {language} catalogue is not compiled (or older than its .po file): pages "
                                    "would be in English. Run `pybabel compile -d petition_app/translations`."))
    if timezones.zone_named(config.get("TIMEZONE") or timezones.DEFAULT) is None:
        findings.append(Finding(ERROR, "timezone-unknown",
                                f"TIMEZONE={config.get('TIMEZONE')!r} names no time zone: deadlines are entered and "
                                "shown in UTC instead. Use an IANA name such as Europe/Moscow or America/Toronto."))
    database = config["SQLALCHEMY_DATABASE_URI"]
    if config.get("SECRET_KEY_FROM_INSTANCE") and not database.startswith("sqlite"):
        findings.append(Finding(WARNING, "secret-in-instance",
                                "SECRET_KEY was generated into instance/ while the database is shared "
                                "(PostgreSQL): every app server must have the same SECRET_KEY and SIGNER_HASH_KEY, "
                                "set in its environment, or forms expire and signers are counted twice."))
    workers = workers if workers is not None else int(os.environ.get("WEB_CONCURRENCY", "2") or 2)
    if workers > 1 and not config.get("REDIS_URL") and not development(app):
        findings.append(Finding(WARNING, "limits-per-worker",
                                f"{workers} workers and no REDIS_URL: rate limits and the counter cache live in "
                                f"each worker's memory, so every limit is {workers} times as high. Set REDIS_URL."))
    for path in _exposed_files(app):
        findings.append(Finding(WARNING, "file-permissions", f"{path} can be read by other accounts (chmod 600)."))
    if config.get("WEBHOOK_ALLOW_LOOPBACK") and not development(app):
        findings.append(Finding(WARNING, "webhook-loopback",
                                "WEBHOOK_ALLOW_LOOPBACK is on: owners can point webhooks at services on this "
                                "machine over plain http. It is meant for development only."))
    return sorted(findings, key=lambda f: f.level != ERROR)


def _exposed_files(app: Flask) -> list[Path]:
    folder = Path(app.instance_path)
    candidates = [folder, *folder.glob("*secret*"), *folder.glob("*.sqlite3*")]
    return [p for p in candidates if p.exists() and p.stat().st_mode & 0o077]


def log_startup_findings(logger, workers: int | None = None) -> list[Finding]:
    """Create the app once (as the server starts) and log its findings where the operator will see them."""
    from petition_app import create_app

    app = create_app()
    findings = find_problems(app, workers=workers)
    for finding in findings:
        method = logger.error if finding.level == ERROR else logger.warning
        method("CONFIGURATION %s (%s): %s", finding.level.upper(), finding.code, finding.message)
    if findings:
        logger.warning("Run `flask --app wsgi check` after fixing; see docs/deploy.md.")
    return findings


def init_app(app: Flask) -> None:
    app.cli.add_command(check_command)
    noted = {"forwarded": False}

    if not app.config.get("TRUSTED_PROXIES"):
        @app.before_request
        def note_forwarded_requests():
            if noted["forwarded"] or "X-Forwarded-For" not in request.headers:
                return
            noted["forwarded"] = True
            log.error("A request arrived with X-Forwarded-For but TRUSTED_PROXIES=0: every visitor behind the "
                      "proxy shares one rate limit. Set TRUSTED_PROXIES to the number of proxy hops.")
            marker = Path(current_app.instance_path) / FORWARDED_MARKER
            try:
                os.close(os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600))
            except OSError:
                pass

    @app.context_processor
    def configuration_findings():
        return {"configuration_findings": lambda: find_problems(current_app._get_current_object())}


@click.command("check")
@with_appcontext
@click.option("--workers", type=int, default=None, help="Web workers per server (default: WEB_CONCURRENCY or 2).")
def check_command(workers: int | None) -> None:
    """Check the configuration; exit 1 when something is wrong, 0 when it is sound."""
    findings = find_problems(current_app._get_current_object(), workers=workers)
    for finding in findings:
        click.echo(f"{finding.level.upper()} [{finding.code}] {finding.message}", err=finding.level == ERROR)
    errors = sum(f.level == ERROR for f in findings)
    if errors:
        click.echo(f"{errors} error(s): fix them before serving the site (see docs/deploy.md).", err=True)
        sys.exit(1)
    click.echo("Configuration is sound." if not findings else "No errors; read the warnings above.")

"""Command-line tools: flask --app wsgi <command>."""

from __future__ import annotations

import signal
import time

import click
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    from petition_app.admin.cli import orgs_cli, users_cli
    from petition_app.demo.loader import demo_cli

    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(recount_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(keys_cli)


@click.command("recount")
def recount_command() -> None:
    """Repair every campaign's stored count from its signatures."""
    from sqlalchemy import select

    from petition_app import counts
    from petition_app.extensions import db
    from petition_app.models import Campaign

    for campaign in db.session.execute(select(Campaign)).scalars().all():
        before = campaign.signature_count
        after = counts.recount(campaign)
        click.echo(f"{campaign.slug}: {before} -> {after}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
def worker_command(once: bool) -> None:
    """Send queued mail (and purge expired data once a day) until stopped."""
    from petition_app import mailer
    from petition_app.extensions import db

    worker = mailer.worker_id()
    if once:
        handled = mailer.send_due(worker)
        click.echo(f"{handled} messages handled.")
        return

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"Mail worker {worker} started; Ctrl+C stops it.")
    last_purge = float("-inf")
    while not stopping:
        try:
            if time.monotonic() - last_purge > 86400:
                _purge(dry_run=False)
                last_purge = time.monotonic()
            handled = mailer.send_batch(worker)
        except Exception:  # a database hiccup must not end the worker; the message stays queued
            current_app.logger.exception("worker pass failed")
            db.session.rollback()
            handled = 0
        finally:
            db.session.remove()
        if not handled:
            for _ in range(current_app.config["WORKER_POLL_SECONDS"] * 10):
                if stopping:
                    break
                time.sleep(0.1)
    click.echo("Mail worker stopped.")


def _purge(dry_run: bool) -> tuple[dict[str, int], dict[str, int]]:
    from petition_app.signing.service import erase_closed, purge_unconfirmed

    return purge_unconfirmed(dry_run=dry_run), erase_closed(dry_run=dry_run)


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Print what would go, change nothing.")
def purge_command(dry_run: bool) -> None:
    """Delete signer data past its retention periods."""
    purged, erased = _purge(dry_run)
    days = current_app.config["UNCONFIRMED_RETENTION_DAYS"]
    months = current_app.config["CLOSED_RETENTION_MONTHS"]
    if not purged and not erased:
        click.echo(f"Nothing to purge (unconfirmed signatures are kept {days} days; personal data on closed "
                   f"campaigns {months} months).")
    for slug, n in purged.items():
        verb = "would delete" if dry_run else "deleted"
        click.echo(f"{slug}: {verb} {n} unconfirmed signatures older than {days} days")
    for slug, n in erased.items():
        verb = "would erase" if dry_run else "erased"
        click.echo(f"{slug}: {verb} the personal data of {n} signatures (closed more than {months} months ago)")


keys_cli = click.Group("keys", help="Sealing keys of organisations.")


@keys_cli.command("generate")
@click.argument("org_slug")
@click.option("--replace", is_flag=True, help="Replace an existing key (data sealed before stays sealed to the old one).")
def generate_key(org_slug: str, replace: bool) -> None:
    """Make a key pair: store the public key on the organisation, print the private key once."""
    from sqlalchemy import select

    from petition_app import audit, sealing
    from petition_app.extensions import db
    from petition_app.models import Organisation

    organisation = db.session.execute(select(Organisation).where(Organisation.slug == org_slug)).scalar()
    if organisation is None:
        raise click.ClickException(f"no organisation {org_slug!r} (see: flask orgs list)")
    if organisation.public_key and not replace:
        raise click.ClickException("this organisation has a key already; --replace makes a new one")
    public, private = sealing.generate_keypair()
    organisation.public_key = public
    audit.record("sealing key generated", organisation.slug, organisation.id, f"public key {public}")
    db.session.commit()
    click.echo(f"Public key stored for {organisation.slug}: {public}", err=True)
    click.echo("Private key (shown once; keep it offline, it is the only way to read sealed signatures):", err=True)
    click.echo(private)

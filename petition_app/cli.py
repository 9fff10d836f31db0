"""Command-line tools: flask --app wsgi <command>."""

from __future__ import annotations

import logging
import signal
import time

import click
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    from petition_app.admin.cli import needs_database, orgs_cli, users_cli
    from petition_app.demo.loader import demo_cli

    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(recount_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(export_command)
    app.cli.add_command(keys_cli)
    app.cli.add_command(unseal_command)
    # Run without the app's environment, these would open (and create) an empty SQLite file: stop clearly instead.
    for command in (demo_cli, recount_command, worker_command, purge_command, export_command, keys_cli):
        needs_database(command)


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
    """Send queued mail, close campaigns past their deadline (and purge expired data once a day) until stopped."""
    from petition_app import mailer, mailings, webhooks
    from petition_app.campaigns.lifecycle import close_past_deadline
    from petition_app.extensions import db
    from petition_app.starter.service import answer_link_requests

    worker = mailer.worker_id()
    if not logging.getLogger().handlers:  # logging not configured: the worker's lines go to stderr
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mailer.log.setLevel(logging.INFO)  # each pass's summary, each failure and retry (never to whom)
    if once:
        for slug in close_past_deadline():
            click.echo(f"{slug}: closed, its deadline has passed")
        answer_link_requests()
        mailings.advance()  # one batch of an update mailing, within its rate
        handled = mailer.send_due(worker)
        handled += webhooks.deliver_due(worker)
        click.echo(f"{handled} messages handled.")
        return

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"Mail worker {worker} started; Ctrl+C stops it.")
    last_purge = last_deadlines = float("-inf")
    while not stopping:
        try:
            if time.monotonic() - last_deadlines > current_app.config["DEADLINE_CHECK_SECONDS"]:
                for slug in close_past_deadline():
                    click.echo(f"{slug}: closed, its deadline has passed")
                last_deadlines = time.monotonic()
            if time.monotonic() - last_purge > 86400:
                _purge(dry_run=False)
                last_purge = time.monotonic()
            handled = answer_link_requests()
            handled += mailings.advance()  # queues the next batch of an update mailing, within its rate
            handled += mailer.send_batch(worker)
            handled += webhooks.deliver_batch(worker)
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


def _purge(dry_run: bool) -> tuple[dict[str, int], dict[str, int], int, int]:
    from petition_app.campaigns.lifecycle import close_past_deadline, overdue_campaigns
    from petition_app.mailer import delete_old_mail_files
    from petition_app.signing.service import erase_closed, purge_unconfirmed
    from petition_app.starter.service import forget_finished_starters
    from petition_app.starter.service import purge_unconfirmed as purge_unconfirmed_proposals

    # Retention counts from the deadline of campaigns that passed it: close them first.
    for slug in overdue_campaigns() if dry_run else close_past_deadline():
        click.echo(f"{slug}: {'would close' if dry_run else 'closed'}, its deadline has passed")
    days = current_app.config["UNCONFIRMED_RETENTION_DAYS"]
    mail_files = delete_old_mail_files(days, dry_run=dry_run)
    if mail_files:
        verb = "would delete" if dry_run else "deleted"
        click.echo(f"{verb} {mail_files} mail files older than {days} days from {current_app.config['MAIL_DIR']}")
    done = (purge_unconfirmed(dry_run=dry_run), erase_closed(dry_run=dry_run),
            purge_unconfirmed_proposals(dry_run=dry_run), forget_finished_starters(dry_run=dry_run))
    if not dry_run:
        from petition_app.db_setup import checkpoint_wal

        checkpoint_wal()  # the starters' erased data too leaves no copy in SQLite's -wal file
    return done


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Print what would go, change nothing.")
def purge_command(dry_run: bool) -> None:
    """Delete signer data past its retention periods."""
    purged, erased, proposals, starters = _purge(dry_run)
    days = current_app.config["UNCONFIRMED_RETENTION_DAYS"]
    months = current_app.config["CLOSED_RETENTION_MONTHS"]
    if not purged and not erased and not proposals and not starters:  # (mail files are reported as they go)
        click.echo(f"Nothing to purge (unconfirmed signatures are kept {days} days; personal data on closed "
                   f"campaigns {months} months).")
    for slug, n in purged.items():
        verb = "would delete" if dry_run else "deleted"
        click.echo(f"{slug}: {verb} {n} unconfirmed signatures older than {days} days")
    for slug, n in erased.items():
        verb = "would erase" if dry_run else "erased"
        click.echo(f"{slug}: {verb} the personal data of {n} signatures (closed more than {months} months ago)")
    if proposals:
        verb = "would delete" if dry_run else "deleted"
        click.echo(f"{verb} {proposals} campaign proposals whose address was not confirmed within {days} days")
    if starters:
        verb = "would forget" if dry_run else "forgot"
        click.echo(f"{verb} the contact address of {starters} campaign starters who no longer need one")


keys_cli = click.Group("keys", help="Sealing keys of organisations.")


@keys_cli.command("generate")
@click.argument("org_slug")
@click.option("--replace", is_flag=True, help="Replace an existing key (data sealed before stays sealed to the old one).")
def generate_key(org_slug: str, replace: bool) -> None:
    """Make a key pair: store the public key on the organisation, print the private key once."""
    from sqlalchemy import select

    from petition_app import organisations, sealing
    from petition_app.extensions import db
    from petition_app.models import Organisation

    organisation = db.session.execute(select(Organisation).where(Organisation.slug == org_slug)).scalar()
    if organisation is None:
        raise click.ClickException(f"no organisation {org_slug!r} (see: flask orgs list)")
    if organisation.public_key and not replace:
        raise click.ClickException("this organisation has a key already; --replace makes a new one")
    public, private = sealing.generate_keypair()
    organisations.set_public_key(organisation, public)
    click.echo(f"Public key stored for {organisation.slug}: {public}", err=True)
    click.echo("Private key (shown once; keep it offline, it is the only way to read sealed signatures):", err=True)
    click.echo(private)


@click.command("export")
@click.argument("slug")
@click.option("--delivery", "kind", flag_value="delivery", default=True,
              help="First name, last name and country of the signatures the campaign delivers (the default).")
@click.option("--full", "kind", flag_value="full", help="Every field of every signature (personal data).")
@click.option("--output", "-o", default="-", show_default=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write; - is standard output.")
@click.option("--private-key", "key_file", type=click.File("r"),
              help="The organisation's private key file: opens sealed names, emails and phones.")
def export_command(slug: str, kind: str, output: str, key_file) -> None:
    """Write a campaign's signatures as CSV (UTF-8 with BOM), streamed a batch at a time."""
    import contextlib
    import sys

    from sqlalchemy import select

    from petition_app import audit, exports
    from petition_app.extensions import db
    from petition_app.models import Campaign

    campaign = db.session.execute(select(Campaign).where(Campaign.slug == slug)).scalar_one_or_none()
    if campaign is None:
        raise click.BadParameter(f"no campaign {slug!r}", param_hint="SLUG")
    private_key = _read_private_key(key_file, campaign.organisation.public_key) if key_file else None
    audit.log(f"{kind} export written", campaign.slug, campaign.organisation_id,
              detail="to standard output" if output == "-" else f"to {output}")
    # A progress bar only for a person watching: never in a pipe, a log or a cron mail.
    bar = (click.progressbar(length=exports.count(campaign, kind), label=f"Exporting {slug}", file=sys.stderr)
           if sys.stderr.isatty() else contextlib.nullcontext())
    with click.open_file(output, "wb", atomic=output != "-") as out, bar as progress:
        for chunk in exports.csv_export(campaign, kind, progress=progress.update if progress else None,
                                        private_key=private_key):
            out.write(chunk.encode("utf-8"))
    if output != "-":
        click.echo(f"Wrote the {kind} export of {slug} to {output}.", err=True)


def _read_private_key(key_file, expected_public_key: str | None) -> str:
    from petition_app import sealing

    private_key = key_file.read().strip()
    try:
        public = sealing.public_key_of(private_key)
    except sealing.SealingError as error:
        raise click.BadParameter(str(error), param_hint="--private-key") from error
    if expected_public_key and public != expected_public_key:
        raise click.BadParameter("this is not the private key of the campaign's organisation",
                                 param_hint="--private-key")
    return private_key


@click.command("unseal")
@click.argument("export_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--private-key", "key_file", type=click.File("r"), required=True,
              help="The organisation's private key file.")
@click.option("--output", "-o", default="-", show_default=True, type=click.Path(dir_okay=False, allow_dash=True))
def unseal_command(export_file, key_file, output: str) -> None:
    """Open the sealed cells of a downloaded full export, on the organisation's own machine (no database needed)."""
    from petition_app import exports, sealing

    private_key = _read_private_key(key_file, None)
    try:
        with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
            for chunk in exports.unseal_full_csv(export_file, private_key):
                out.write(chunk)
    except (ValueError, sealing.SealingError) as error:
        raise click.ClickException(str(error)) from error

"""Command-line tools: flask --app wsgi <command>."""

from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    from petition_app.demo.loader import demo_cli

    app.cli.add_command(demo_cli)

    @app.cli.command("recount")
    def recount_command() -> None:
        """Repair every campaign's stored count from its signatures."""
        from sqlalchemy import select

        from petition_app import counts
        from petition_app.extensions import db
        from petition_app.models import Campaign

        for campaign in db.session.execute(select(Campaign)).scalars():
            before = campaign.signature_count
            after = counts.recount(campaign)
            click.echo(f"{campaign.slug}: {before} -> {after}")

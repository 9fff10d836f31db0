"""flask users ... and flask orgs ...: accounts and organisations from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from petition_app import audit
from petition_app.extensions import db
from petition_app.models import Membership, Organisation, Role, User
from petition_app.passwords import hash_password

users_cli = AppGroup("users", help="Admin accounts.")
orgs_cli = AppGroup("orgs", help="Organisations.")


@users_cli.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--superuser", is_flag=True, help="May manage every organisation and moderate.")
@click.option("--org", "org_slug", help="Organisation to join.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VIEWER.value, show_default=True)
def create_user(email: str, password_stdin: bool, superuser: bool, org_slug: str | None, role: str) -> None:
    """Create an admin account (or add an existing one to an organisation)."""
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    organisation = None
    if org_slug:
        organisation = db.session.execute(select(Organisation).where(Organisation.slug == org_slug)).scalar()
        if organisation is None:
            raise click.BadParameter(f"no organisation {org_slug!r} (see: flask orgs list)", param_hint="--org")
    user = db.session.execute(select(User).where(func.lower(User.email) == email.lower())).scalar_one_or_none()
    if user is None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 12:
            raise click.BadParameter("use at least 12 characters", param_hint="password")
        user = User(email=email, password_hash=hash_password(password), is_superuser=superuser)
        db.session.add(user)
        db.session.flush()
        click.echo(f"Created {email}{' (superuser)' if superuser else ''}.")
    elif superuser and not user.is_superuser:
        user.is_superuser = True
        click.echo(f"{email} is now a superuser.")
    if organisation is not None:
        membership = db.session.execute(select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id)).scalar_one_or_none()
        if membership is None:
            db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=Role(role)))
        else:
            membership.role = Role(role)
        audit.record("member set", f"{email} as {role}", organisation.id)
        click.echo(f"{email} is {role} of {organisation.slug}.")
    db.session.commit()


@orgs_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
def create_org(slug: str, name: str) -> None:
    """Create an organisation."""
    import re

    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) or len(slug) > 64:
        raise click.BadParameter("lower-case letters, digits and hyphens", param_hint="SLUG")
    if db.session.execute(select(Organisation).where(Organisation.slug == slug)).scalar():
        raise click.ClickException(f"organisation {slug!r} exists already")
    organisation = Organisation(slug=slug, name=name.strip()[:200])
    db.session.add(organisation)
    db.session.flush()
    audit.record("organisation created", slug, organisation.id)
    db.session.commit()
    click.echo(f"Created {slug}.")


@orgs_cli.command("list")
def list_orgs() -> None:
    """One organisation a line: slug, then name."""
    for organisation in db.session.execute(select(Organisation).order_by(Organisation.slug)).scalars():
        click.echo(f"{organisation.slug}\t{organisation.name}")

"""flask users ... and flask orgs ...: accounts and organisations from the command line."""

from __future__ import annotations

import functools
import sys

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from petition_app import organisations
from petition_app.extensions import db
from petition_app.models import Organisation, Role, User


def require_database() -> None:
    """Stop with a clear message, before anything touches the database, when it is missing or has no tables.

    Run without the app's environment (no DATABASE_URL), the app would otherwise open a fresh SQLite file under
    instance/ and fail there with a traceback.
    """
    from sqlalchemy import inspect

    url = db.engine.url
    hint = "Set the app's environment (DATABASE_URL, SECRET_KEY) or run `flask db upgrade` first."
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(url.database).exists():
            raise click.ClickException(f"No database at {url.database}. {hint}")
    try:
        with db.engine.connect() as conn:
            ready = inspect(conn).has_table("users")
    except Exception as error:  # unreachable server, wrong credentials, ...
        raise click.ClickException(f"Cannot open the database ({type(error).__name__}). {hint}") from None
    if not ready:
        raise click.ClickException(f"The database has no tables. {hint}")


def needs_database(command: click.Command) -> click.Command:
    """Make a command (or every command of a group) stop clearly when the database is missing or empty."""
    if getattr(command, "_needs_database", False):
        return command
    callback = command.callback

    @functools.wraps(callback or require_database)
    @with_appcontext
    def checked(*args, **kwargs):
        require_database()
        return callback(*args, **kwargs) if callback else None

    command.callback = checked
    command._needs_database = True  # type: ignore[attr-defined]
    return command


@click.group("users", cls=AppGroup)
@with_appcontext
def users_cli() -> None:
    """Admin accounts."""
    require_database()


@click.group("orgs", cls=AppGroup)
@with_appcontext
def orgs_cli() -> None:
    """Organisations."""
    require_database()


@users_cli.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--superuser", is_flag=True, help="May manage every organisation and moderate.")
@click.option("--org", "org_slug", help="Organisation to join.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VIEWER.value, show_default=True)
def create_user(email: str, password_stdin: bool, superuser: bool, org_slug: str | None, role: str) -> None:
    """Create an admin account (for an existing one: use the admin's invitations, or set-password)."""
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    organisation = None
    if org_slug:
        organisation = db.session.execute(select(Organisation).where(Organisation.slug == org_slug)).scalar()
        if organisation is None:
            raise click.BadParameter(f"no organisation {org_slug!r} (see: flask orgs list)", param_hint="--org")
    if _find(email) is not None:
        raise click.ClickException(
            f"an account for {email} exists already: nothing changed (see flask users list / set-password)")
    from petition_app.admin import accounts

    password = _read_password(password_stdin)
    accounts.create_account(email, password, superuser=superuser, organisation=organisation, role=Role(role))
    click.echo(f"Created {email}{' (superuser)' if superuser else ''}.")
    if organisation is not None:
        click.echo(f"{email} is {role} of {organisation.slug}.")


def _find(email: str) -> User | None:
    return db.session.execute(select(User).where(func.lower(User.email) == email.strip().lower())).scalar_one_or_none()


def _account(email: str) -> User:
    user = _find(email)
    if user is None:
        raise click.ClickException(f"no account for {email} (see: flask users list)")
    return user


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.BadParameter("use at least 12 characters", param_hint="password")
    return password


@users_cli.command("invite")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Organisation to join.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VIEWER.value, show_default=True)
def invite_user(email: str, org_slug: str, role: str) -> None:
    """Mail an invitation: the address's holder chooses a password (or, with an account, accepts)."""
    from petition_app.admin.accounts import invite

    if "@" not in email or len(email) > 254:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    organisation = db.session.execute(select(Organisation).where(Organisation.slug == org_slug)).scalar()
    if organisation is None:
        raise click.BadParameter(f"no organisation {org_slug!r} (see: flask orgs list)", param_hint="--org")
    outcome = invite(organisation, email, Role(role))
    if outcome == "updated":
        click.echo(f"{email} is {role} of {organisation.slug}.")
    else:
        click.echo(f"Invitation to {organisation.slug} as {role} queued for {email} (the worker mails it).")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_command(email: str, password_stdin: bool) -> None:
    """Set an account's password (for its holder); every session of the account ends."""
    from petition_app.admin.accounts import change_password

    user = _account(email)
    change_password(user, _read_password(password_stdin), "password set", detail="on the command line")
    click.echo(f"Password of {user.email} set; its sessions have ended.")


@users_cli.command("list")
def list_users() -> None:
    """One account a line: email, state, two-factor, then organisation:role pairs."""
    users = db.session.execute(select(User).order_by(User.email)).scalars().all()
    for user in users:
        state = "active" if user.active else "disabled"
        if user.is_superuser:
            state += ",superuser"
        if user.must_reset_password:
            state += ",must-reset-password"
        roles = " ".join(sorted(f"{m.organisation.slug}:{m.role.value}" for m in user.memberships))
        click.echo(f"{user.email}\t{state}\t{'2fa' if user.totp_secret else '-'}\t{roles}".rstrip())


@users_cli.command("disable")
@click.argument("email")
def disable_user(email: str) -> None:
    """Stop an account from logging in; its sessions end at once."""
    from petition_app.admin.accounts import set_active

    user = _account(email)
    set_active(user, False)
    click.echo(f"{user.email} is disabled; its sessions have ended.")


@users_cli.command("enable")
@click.argument("email")
def enable_user(email: str) -> None:
    """Let a disabled account log in again."""
    from petition_app.admin.accounts import set_active

    user = _account(email)
    set_active(user, True)
    click.echo(f"{user.email} is enabled.")


@users_cli.command("disable-two-factor")
@click.argument("email")
def disable_two_factor_command(email: str) -> None:
    """Turn off two-factor login for a holder who lost the phone and the recovery codes; sessions end."""
    from petition_app.admin.accounts import turn_off_two_factor

    user = _account(email)
    turn_off_two_factor(user, end_all_sessions=True, detail="on the command line")
    click.echo(f"Two-factor login is off for {user.email}; its sessions have ended.")


@users_cli.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_user(email: str, yes: bool) -> None:
    """Delete an account and its memberships (the audit log keeps its address)."""
    from petition_app.admin.accounts import delete_account

    user = _account(email)
    for membership in user.memberships:
        if membership.role == Role.OWNER and organisations.owner_count(membership.organisation_id) == 1:
            raise click.ClickException(
                f"{user.email} is the last owner of {membership.organisation.slug}: make someone else owner first")
    if not yes:
        click.confirm(f"Delete the account {user.email}?", abort=True)
    delete_account(user)
    click.echo(f"Deleted {email}.")


@orgs_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
def create_org(slug: str, name: str) -> None:
    """Create an organisation."""
    if not organisations.valid_slug(slug):
        raise click.BadParameter("lower-case letters, digits and hyphens", param_hint="SLUG")
    try:
        organisations.create(slug, name)
    except organisations.SlugTaken:
        raise click.ClickException(f"organisation {slug!r} exists already") from None
    click.echo(f"Created {slug}.")


@orgs_cli.command("list")
def list_orgs() -> None:
    """One organisation a line: slug, then name."""
    for organisation in db.session.execute(select(Organisation).order_by(Organisation.slug)).scalars():
        click.echo(f"{organisation.slug}\t{organisation.name}")

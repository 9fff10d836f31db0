"""Admin accounts: invitations, password resets, passwords and two-factor login.

Nobody but an account's holder ever knows or sets its password: accounts are made by the holder through a mailed
invitation link, passwords are reset through a mailed link, and an existing account joins another organisation
only when its holder accepts. Link tokens travel in the mail only; the database keeps their SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta, timezone

import pyotp
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import delete, func, select

from petition_app import audit, mailer, organisations, timefloor
from petition_app.extensions import db
from petition_app.models import AccountToken, Invitation, Membership, Organisation, RecoveryCode, Role, User
from petition_app.passwords import hash_password
from petition_app.templating import public_url

RESET = "reset"
INVITATION_DAYS = 7
RESET_MINUTES = 60
RECOVERY_CODES = 10


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _language() -> str:
    """The language of the page the request came from (the command line: the default)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def user_by_email(address: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == address.strip().lower())
    ).scalar_one_or_none()


def set_password(user: User, password: str) -> None:
    """Give the account a password its holder chose; every session of the account ends (the caller commits)."""
    user.password_hash = hash_password(password)
    user.must_reset_password = False
    user.session_version += 1
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))


def end_sessions(user: User) -> None:
    user.session_version += 1


# Whole pieces of work on an account, each audited and committed (for the admin's pages and `flask users`).


def change_password(user: User, password: str, action: str, detail: str = "", actor=None) -> None:
    """Set a password the holder chose (every session ends), record `action`, and commit."""
    set_password(user, password)
    audit.record(action, user.email, detail=detail, actor=actor)
    db.session.commit()


def log_out_everywhere(user: User) -> None:
    """End every session of the account and commit."""
    end_sessions(user)
    db.session.commit()


def record_login(user: User) -> None:
    audit.log("login", user.email)


def rehash_password(user: User, password: str) -> None:
    """Store the password again with the current hashing parameters and commit."""
    user.password_hash = hash_password(password)
    db.session.commit()


def require_new_password(user: User) -> None:
    """End the account's sessions and mail its holder a link to choose a new password; commits."""
    end_sessions(user)
    request_reset(user.email, required=True)


def set_active(user: User, active: bool) -> None:
    """Disable an account (its sessions end at once) or enable it again, audited, and commit."""
    user.active = active
    if not active:
        end_sessions(user)
    audit.record("account enabled" if active else "account disabled", user.email)
    db.session.commit()


def turn_off_two_factor(user: User, *, end_all_sessions: bool = False, detail: str = "") -> None:
    """Turn two-factor login off (optionally ending every session), audited, and commit."""
    disable_two_factor(user)
    if end_all_sessions:
        end_sessions(user)
    audit.record("two-factor disabled", user.email, detail=detail)
    db.session.commit()


def turn_on_two_factor(user: User, secret: str, used_step: int | None) -> list[str]:
    """Turn two-factor login on, audited, and commit; returns the recovery codes to show once."""
    codes = enable_two_factor(user, secret, used_step)
    audit.record("two-factor enabled", user.email)
    db.session.commit()
    return codes


def create_account(email: str, password: str, *, superuser: bool = False, organisation: Organisation | None = None,
                   role: Role = Role.VIEWER) -> User:
    """Create an account with a password its holder chose (the command line), optionally a member; commits."""
    user = User(email=email, password_hash=hash_password(password), is_superuser=superuser)
    db.session.add(user)
    db.session.flush()
    if organisation is not None:
        organisations.set_member(organisation, user, role)
    db.session.commit()
    return user


def delete_account(user: User) -> None:
    """Delete the account and its memberships (the audit log keeps its address) and commit."""
    audit.record("account deleted", user.email)
    db.session.delete(user)
    db.session.commit()


# -- invitations ------------------------------------------------------------------------------------------------


def invite(organisation: Organisation, address: str, role: Role) -> str:
    """Offer `role` in the organisation to an address and mail the link; returns what happened.

    "updated": the account is a member already and only its role changed. "invited": an invitation was mailed
    (to set a password and join, or, for an existing account, to accept). Nothing else changes until the
    holder acts. Commits.
    """
    address = address.strip()
    delete_expired()
    user = user_by_email(address)
    if user is not None:
        if organisations.membership(organisation, user) is not None:
            organisations.set_member(organisation, user, role)
            db.session.commit()
            return "updated"
    db.session.execute(delete(Invitation).where(
        Invitation.organisation_id == organisation.id, Invitation.email == address.lower()))
    raw = secrets.token_urlsafe(32)
    db.session.add(Invitation(
        organisation_id=organisation.id, email=address.lower(), role=role, token_hash=_hash(raw),
        invited_by_id=audit_user_id(), expires_at=_now() + timedelta(days=INVITATION_DAYS)))
    audit.record("member invited", f"{address} as {role.value}", organisation.id)
    mailer.enqueue("admin_invitation", user.email if user else address, _language(), "admin_invitation",
                   organisation=organisation, role=role.value, has_account=user is not None,
                   link=public_url("admin.invitation", token=raw), days=INVITATION_DAYS)
    db.session.commit()
    return "invited"


def audit_user_id() -> int | None:
    return current_user.id if current_user and current_user.is_authenticated else None


def invitation_for(raw: str) -> Invitation | None:
    """The live invitation with this link token, or None."""
    if not raw or len(raw) > 100:
        return None
    invitation = db.session.execute(
        select(Invitation).where(Invitation.token_hash == _hash(raw))).scalar_one_or_none()
    if invitation is None or invitation.expires_at <= _now():
        return None
    return invitation


def pending_invitations(user: User) -> list[Invitation]:
    """Live invitations addressed to this account, for it to accept after logging in."""
    return list(db.session.execute(
        select(Invitation).where(Invitation.email == user.email.lower(), Invitation.expires_at > _now())
        .order_by(Invitation.id)).scalars())


def organisation_invitations(organisation: Organisation) -> list[Invitation]:
    return list(db.session.execute(
        select(Invitation).where(Invitation.organisation_id == organisation.id, Invitation.expires_at > _now())
        .order_by(Invitation.email)).scalars())


def accept(invitation: Invitation, user: User, by_link: bool = False) -> Membership:
    """Make the account a member with the invited role; the invitation is used up. Commits."""
    if invitation.email != user.email.lower():
        raise ValueError("invitation for another address")
    membership = db.session.execute(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == invitation.organisation_id)
    ).scalar_one_or_none()
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role)
        db.session.add(membership)
    else:
        membership.role = invitation.role
    audit.record("invitation accepted", f"{user.email} as {invitation.role.value}", invitation.organisation_id,
                 detail="by a mailed link" if by_link else "", actor=user)
    db.session.delete(invitation)
    db.session.commit()
    return membership


def create_invited_account(invitation: Invitation, password: str) -> User:
    """The holder of a new address sets the password and joins; returns the new account. Commits (with accept)."""
    user = User(email=invitation.email, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    accept(invitation, user, by_link=True)
    return user


def decline(invitation: Invitation, actor: User | str | None = None) -> None:
    audit.record("invitation declined", invitation.email, invitation.organisation_id, actor=actor)
    db.session.delete(invitation)
    db.session.commit()


# -- password resets ---------------------------------------------------------------------------------------------


def request_reset(address: str, *, required: bool = False) -> None:
    """Mail a single-use link to set a new password, or, for an address without an account, a mail saying so.

    Both cases do the same work (one token row, one queued mail rendered from one template), so neither the
    page nor its timing tells whether the address has an account (the database's work still differs a little: an
    account read or none, so the time is evened out, petition_app/timefloor.py). Commits.
    """
    started = time.perf_counter()
    delete_expired()
    user = user_by_email(address)
    raw = secrets.token_urlsafe(32)
    db.session.add(AccountToken(user_id=user.id if user else None, purpose=RESET, token_hash=_hash(raw),
                                expires_at=_now() + timedelta(minutes=RESET_MINUTES)))
    mailer.enqueue("password_reset", user.email if user else address.strip(), _language(), "password_reset",
                   has_account=user is not None, required=required, minutes=RESET_MINUTES,
                   link=public_url("admin.reset_password", token=raw))
    db.session.commit()
    timefloor.hold("password_reset", started)


def reset_user_for(raw: str) -> User | None:
    """The account a live reset link belongs to, or None."""
    if not raw or len(raw) > 100:
        return None
    token = db.session.execute(select(AccountToken).where(
        AccountToken.token_hash == _hash(raw), AccountToken.purpose == RESET)).scalar_one_or_none()
    if token is None or token.user_id is None or token.expires_at <= _now():
        return None
    user = db.session.get(User, token.user_id)
    return user if user is not None and user.active else None


def delete_expired() -> int:
    """Drop expired reset tokens and invitations (run whenever new ones are made)."""
    now = _now()
    gone = db.session.execute(delete(AccountToken).where(AccountToken.expires_at < now)).rowcount
    return gone + db.session.execute(delete(Invitation).where(Invitation.expires_at < now)).rowcount


# -- two-factor login (TOTP) -------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["SITE_NAME"])


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code, drawn here (no image service sees the secret)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff",
                                                 title="QR code", svgclass="qr")


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is, if any and if unused."""
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp_setup(secret: str, code: str) -> int | None:
    """The time step of a code for a secret being set up, or None when the code is wrong."""
    return _matching_step(secret, _digits(code), None)


def _digits(code: str) -> str:
    return "".join((code or "").split())[:12]


def check_second_factor(user: User, code: str) -> bool:
    """Accept a current TOTP code (each time step once) or an unused recovery code (used up). The caller commits."""
    code = _digits(code)
    if not user.totp_secret or not code:
        return False
    if code.isdigit() and len(code) == 6:
        step = _matching_step(user.totp_secret, code, user.totp_last_step)
        if step is None:
            return False
        user.totp_last_step = step
        return True
    found = db.session.execute(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code.lower().replace("-", "")))
    ).scalar_one_or_none()
    if found is None:
        return False
    db.session.delete(found)
    return True


def enable_two_factor(user: User, secret: str, used_step: int | None = None) -> list[str]:
    """Turn two-factor login on with a confirmed secret; returns fresh recovery codes to show once.
    The confirming code's time step counts as used: it cannot log in."""
    user.totp_secret = secret
    user.totp_last_step = used_step
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits each, single use, behind the password
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
    return codes


def disable_two_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def recovery_codes_left(user: User) -> int:
    return db.session.execute(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)).scalar_one()

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition_app.extensions import db
from petition_app.models.base import UTCDateTime, utcnow
from petition_app.models.org import Organisation


class Role(enum.StrEnum):
    """Roles within an organisation, weakest first."""

    VIEWER = "viewer"  # counts and charts
    EDITOR = "editor"  # campaign content
    OWNER = "owner"  # members, exports with personal data, deletion

    @property
    def rank(self) -> int:
        return list(Role).index(self)


def _role_type() -> Enum:
    return Enum(Role, name="member_role", native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changing it logs the user out everywhere (it is part of the session identity).
    session_version: Mapped[int] = mapped_column(default=1)
    # Set when someone other than the holder may know the password: it no longer opens the account, and the
    # holder proves the mailbox (a link to set a new one) before logging in again.
    must_reset_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Two-factor login (TOTP, RFC 6238): the shared secret once confirmed, and the last time step used (no replay).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    def role_in(self, organisation_id: int) -> Role | None:
        for membership in self.memberships:
            if membership.organisation_id == organisation_id:
                return membership.role
        return None


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", name="uq_memberships_user_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(_role_type())
    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()


class Invitation(db.Model):
    """An organisation's offer of a role to an address: no membership (and, for a new address, no account)
    exists until the address's holder accepts through the mailed link or after logging in."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("organisation_id", "email", name="uq_invitations_org_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower case
    role: Mapped[Role] = mapped_column(_role_type())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    organisation: Mapped[Organisation] = relationship()


class AccountToken(db.Model):
    """A mailed password-reset link: stored only as its SHA-256, single use, short-lived."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a request about an address without an account: the same work is done either way.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A single-use two-factor recovery code, stored only as its SHA-256."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))

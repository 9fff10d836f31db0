"""Organisations and their members: the rules the admin's pages, `flask orgs`/`flask users` and the demo share."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from petition_app import audit
from petition_app.extensions import db
from petition_app.models import Invitation, Membership, Organisation, Role, User

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX = 64
NAME_MAX = 200


class SlugTaken(ValueError):
    """Another organisation has this short name."""


def valid_slug(slug: str) -> bool:
    return bool(re.fullmatch(SLUG_PATTERN, slug or "")) and len(slug) <= SLUG_MAX


def by_slug(slug: str) -> Organisation | None:
    return db.session.execute(select(Organisation).where(Organisation.slug == slug)).scalar_one_or_none()


def add(slug: str, name: str, *, actor: str | None = None, **fields) -> Organisation:
    """Add an organisation, audited (flushed, not committed); SlugTaken when the short name is in use."""
    if by_slug(slug) is not None:
        raise SlugTaken(slug)
    organisation = Organisation(slug=slug, name=name.strip()[:NAME_MAX], **fields)
    db.session.add(organisation)
    db.session.flush()
    audit.record("organisation created", slug, organisation.id, actor=actor)
    return organisation


def create(slug: str, name: str, *, actor: str | None = None) -> Organisation:
    """Create an organisation and commit it."""
    organisation = add(slug, name, actor=actor)
    db.session.commit()
    return organisation


def update_details(organisation: Organisation, name: str, website: str | None, description: str) -> list[str]:
    """Change the public details (name, website, description), audited, and commit; returns the changed fields."""
    new = {"name": name, "website": website or None, "description": description or ""}
    changed = [key for key, value in new.items() if getattr(organisation, key) != value]
    for key in changed:
        setattr(organisation, key, new[key])
    if changed:
        audit.record("organisation details edited", organisation.slug, organisation.id,
                     "fields: " + ", ".join(changed))
    db.session.commit()
    return changed


def membership(organisation: Organisation, user: User) -> Membership | None:
    return db.session.execute(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation.id)).scalar_one_or_none()


def set_member(organisation: Organisation, user: User, role: Role) -> Membership:
    """Make the account a member with this role (or change its role), audited (not committed)."""
    found = membership(organisation, user)
    if found is None:
        found = Membership(user_id=user.id, organisation_id=organisation.id, role=role)
        db.session.add(found)
    else:
        found.role = role
    audit.record("member set", f"{user.email} as {role.value}", organisation.id)
    return found


class LastOwner(ValueError):
    """An organisation keeps at least one owner."""


def owner_count(organisation_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(Membership).where(
        Membership.organisation_id == organisation_id, Membership.role == Role.OWNER)).scalar_one()


def remove_member(organisation: Organisation, membership: Membership) -> None:
    """Remove a member, audited, and commit; LastOwner when it is the organisation's only owner."""
    if membership.role == Role.OWNER and owner_count(organisation.id) == 1:
        raise LastOwner(organisation.slug)
    audit.record("member removed", membership.user.email, organisation.id)
    db.session.delete(membership)
    db.session.commit()


def cancel_invitation(organisation: Organisation, invitation: Invitation) -> None:
    """Withdraw an invitation that was not answered yet, audited, and commit."""
    audit.record("invitation cancelled", invitation.email, organisation.id)
    db.session.delete(invitation)
    db.session.commit()


def set_public_key(organisation: Organisation, public_key: str) -> None:
    """Seal the organisation's new signatures to this public key from now on, audited, and commit."""
    organisation.public_key = public_key
    audit.record("sealing key generated", organisation.slug, organisation.id, f"public key {public_key}")
    db.session.commit()

"""Who may see and change what in the admin: every admin view goes through these checks.

Roles rank viewer < editor < owner within an organisation; superusers pass every check. Anything a user may not
see answers 404, so ids and slugs of other organisations' campaigns reveal nothing.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from petition_app.extensions import db
from petition_app.models import Campaign, Organisation, Role


def has_role(organisation_id: int, minimum: Role) -> bool:
    if not current_user.is_authenticated:
        return False
    if current_user.is_superuser:
        return True
    role = current_user.role_in(organisation_id)
    return role is not None and role.rank >= minimum.rank


def visible_organisations(minimum: Role = Role.VIEWER) -> list[Organisation]:
    """The organisations in which the current user holds at least `minimum`."""
    query = select(Organisation).order_by(Organisation.name)
    if not current_user.is_superuser:
        ids = [m.organisation_id for m in current_user.memberships if m.role.rank >= minimum.rank]
        query = query.where(Organisation.id.in_(ids))
    return list(db.session.execute(query).scalars())


def visible_campaigns(minimum: Role = Role.VIEWER):
    """A query for the campaigns the current user may see."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if not current_user.is_superuser:
        ids = [o.id for o in visible_organisations(minimum)]
        query = query.where(Campaign.organisation_id.in_(ids))
    return query


def campaign_or_404(campaign_id: int, minimum: Role) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not has_role(campaign.organisation_id, minimum):
        abort(404)
    return campaign


def organisation_or_404(slug: str, minimum: Role) -> Organisation:
    organisation = db.session.execute(select(Organisation).where(Organisation.slug == slug)).scalar_one_or_none()
    if organisation is None or not has_role(organisation.id, minimum):
        abort(404)
    return organisation


def campaign_view(minimum: Role):
    """Decorate a view taking `campaign_id`: it receives the `campaign`, or the request ends in 404."""

    def decorator(view):
        @wraps(view)
        def wrapped(campaign_id: int, **kwargs):
            return view(campaign=campaign_or_404(campaign_id, minimum), **kwargs)

        wrapped.required_role = minimum  # read by the tests that walk the URL map
        return wrapped

    return decorator


def organisation_view(minimum: Role):
    """Decorate a view taking `org_slug`: it receives the `organisation`, or the request ends in 404."""

    def decorator(view):
        @wraps(view)
        def wrapped(org_slug: str, **kwargs):
            return view(organisation=organisation_or_404(org_slug, minimum), **kwargs)

        wrapped.required_role = minimum
        return wrapped

    return decorator


def superuser_view(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not (current_user.is_authenticated and current_user.is_superuser):
            abort(404)
        return view(*args, **kwargs)

    wrapped.required_role = "superuser"
    return wrapped


def any_member_view(view):
    """Any signed-in admin (what they then see is scoped by visible_* above)."""
    view.required_role = "member"
    return view


# -- moderation of campaigns proposed through "Start your campaign" ---------------------------------------------------
# Moderators: superusers, and editors (or owners) of the organisation that hosts proposals (starter.service).


def moderated_organisation_ids() -> list[int] | None:
    """The organisations whose proposals the current user moderates; None means all (superuser)."""
    if current_user.is_authenticated and current_user.is_superuser:
        return None
    return [o.id for o in visible_organisations(Role.EDITOR)]


def can_moderate() -> bool:
    """Whether the current user may moderate proposals: superuser, or at least editor of the hosting organisation."""
    from petition_app.starter.service import host_organisation

    if not current_user.is_authenticated:
        return False
    if current_user.is_superuser:
        return True
    host = host_organisation()
    return host is not None and has_role(host.id, Role.EDITOR)


def moderator_view(view):
    """Only moderators get past this; anyone else gets 404. A `starter_id` argument becomes the `starter`,
    which must belong to an organisation the user edits for."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not can_moderate():
            abort(404)
        if "starter_id" in kwargs:
            kwargs["starter"] = starter_or_404(kwargs.pop("starter_id"))
        return view(*args, **kwargs)

    wrapped.required_role = "moderator"
    return wrapped


def starter_or_404(starter_id: int):
    """A proposal the current user moderates; unconfirmed ones are nobody's business yet."""
    from petition_app.models import Starter, StarterState

    starter = db.session.get(Starter, starter_id)
    if (starter is None or starter.state == StarterState.UNCONFIRMED
            or not has_role(starter.campaign.organisation_id, Role.EDITOR)):
        abort(404)
    return starter

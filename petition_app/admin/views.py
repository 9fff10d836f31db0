"""Admin home, organisations, members and the audit log."""

from __future__ import annotations

import secrets

from flask import flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from petition_app import audit
from petition_app.admin import bp
from petition_app.admin.access import (
    any_member_view,
    has_role,
    organisation_view,
    superuser_view,
    visible_campaigns,
    visible_organisations,
)
from petition_app.admin.forms import MemberForm, OrganisationForm
from petition_app.extensions import db
from petition_app.models import AuditEntry, Campaign, Membership, Organisation, Role, User
from petition_app.passwords import hash_password


@bp.get("/")
@any_member_view
def dashboard():
    campaigns = db.session.execute(visible_campaigns()).scalars().all()
    return render_template("admin/dashboard.html", campaigns=campaigns, organisations=visible_organisations(),
                           can_create=bool(visible_organisations(Role.EDITOR)))


@bp.route("/orgs", methods=["GET", "POST"])
@superuser_view
def organisations():
    form = OrganisationForm()
    if form.validate_on_submit():
        if db.session.execute(select(Organisation).where(Organisation.slug == form.slug.data)).scalar():
            form.slug.errors.append(_("This short name is taken."))
        else:
            org = Organisation(slug=form.slug.data, name=form.name.data)
            db.session.add(org)
            db.session.flush()
            audit.record("organisation created", org.slug, org.id)
            db.session.commit()
            return redirect(url_for("admin.organisation", org_slug=org.slug), code=303)
    orgs = db.session.execute(select(Organisation).order_by(Organisation.name)).scalars().all()
    status = 422 if form.errors else 200
    return render_template("admin/organisations.html", form=form, organisations=orgs), status


@bp.route("/orgs/<org_slug>", methods=["GET", "POST"])
@organisation_view(Role.VIEWER)
def organisation(organisation: Organisation):
    form = MemberForm()
    new_password = None
    if request.method == "POST":
        if not has_role(organisation.id, Role.OWNER):
            return render_template("errors/error.html", title=_("Not allowed"),
                                   text=_("Only owners can manage members.")), 403
        if form.validate_on_submit():
            new_password = _add_member(organisation, form.email.data, Role(form.role.data))
            if new_password is None:
                return redirect(url_for("admin.organisation", org_slug=organisation.slug), code=303)
    members = db.session.execute(
        select(Membership).where(Membership.organisation_id == organisation.id).join(User).order_by(User.email)
    ).scalars().all()
    campaigns = db.session.execute(
        select(Campaign).where(Campaign.organisation_id == organisation.id).order_by(Campaign.created_at.desc())
    ).scalars().all()
    status = 422 if form.errors else 200
    return render_template("admin/organisation.html", organisation=organisation, members=members, form=form,
                           campaigns=campaigns, new_password=new_password,
                           is_owner=has_role(organisation.id, Role.OWNER)), status


def _add_member(organisation: Organisation, email: str, role: Role) -> str | None:
    """Add or update a membership; a new account gets a one-time password, returned to show once."""
    user = db.session.execute(select(User).where(func.lower(User.email) == email.lower())).scalar_one_or_none()
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User(email=email, password_hash=hash_password(password))
        db.session.add(user)
        db.session.flush()
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    ).scalar_one_or_none()
    if membership is None:
        db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    else:
        membership.role = role
    audit.record("member set", f"{email} as {role.value}", organisation.id)
    db.session.commit()
    if password is None:
        flash(_("%(email)s is now %(role)s.", email=email, role=role.value))
    return password


@bp.post("/orgs/<org_slug>/members/<int:membership_id>/remove")
@organisation_view(Role.OWNER)
def remove_member(organisation: Organisation, membership_id: int):
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        return render_template("errors/error.html", title=_("Page not found"), text=""), 404
    owners = [m for m in organisation_members(organisation) if m.role == Role.OWNER]
    if membership.role == Role.OWNER and len(owners) == 1:
        flash(_("An organisation keeps at least one owner."))
    else:
        audit.record("member removed", membership.user.email, organisation.id)
        db.session.delete(membership)
        db.session.commit()
    return redirect(url_for("admin.organisation", org_slug=organisation.slug), code=303)


def organisation_members(organisation: Organisation) -> list[Membership]:
    return list(db.session.execute(
        select(Membership).where(Membership.organisation_id == organisation.id)).scalars())


@bp.get("/orgs/<org_slug>/audit")
@organisation_view(Role.OWNER)
def audit_log(organisation: Organisation):
    page = max(1, request.args.get("page", 1, type=int) or 1)
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.organisation_id == organisation.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(101).offset((page - 1) * 100)
    ).scalars().all()
    return render_template("admin/audit.html", organisation=organisation, entries=entries[:100], page=page,
                           has_more=len(entries) > 100)


@bp.app_context_processor
def admin_globals():
    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return {"admin_user": None}
    return {"admin_user": current_user}

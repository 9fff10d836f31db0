"""Organisations: creating them, their members and invitations, and their audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from petition_app import organisations as organisation_service
from petition_app.admin import accounts, bp
from petition_app.admin.access import (
    has_role,
    organisation_view,
    superuser_view,
)
from petition_app.admin.forms import MemberForm, OrganisationForm
from petition_app.extensions import db
from petition_app.models import AuditEntry, Campaign, Invitation, Membership, Organisation, Role, User


@bp.route("/orgs", methods=["GET", "POST"])
@superuser_view
def organisations():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            org = organisation_service.create(form.slug.data, form.name.data)
        except organisation_service.SlugTaken:
            form.slug.errors.append(_("This short name is taken."))
        else:
            return redirect(url_for("admin.organisation", org_slug=org.slug), code=303)
    orgs = db.session.execute(select(Organisation).order_by(Organisation.name)).scalars().all()
    status = 422 if form.errors else 200
    return render_template("admin/organisations.html", form=form, organisations=orgs), status


@bp.route("/orgs/<org_slug>", methods=["GET", "POST"])
@organisation_view(Role.VIEWER)
def organisation(organisation: Organisation):
    form = MemberForm()
    if request.method == "POST":
        if not has_role(organisation.id, Role.OWNER):
            return render_template("errors/error.html", title=_("Not allowed"),
                                   text=_("Only owners can manage members.")), 403
        if form.validate_on_submit():
            # Never a password: the address's holder gets a link (to set one, or to accept) by mail.
            outcome = accounts.invite(organisation, form.email.data, Role(form.role.data))
            if outcome == "updated":
                flash(_("%(email)s is now %(role)s.", email=form.email.data, role=form.role.data))
            else:
                flash(_("An invitation was mailed to %(email)s. They become %(role)s once they accept it.",
                        email=form.email.data, role=form.role.data))
            return redirect(url_for("admin.organisation", org_slug=organisation.slug), code=303)
    members = db.session.execute(
        select(Membership).where(Membership.organisation_id == organisation.id).join(User).order_by(User.email)
    ).scalars().all()
    campaigns = db.session.execute(
        select(Campaign).where(Campaign.organisation_id == organisation.id).order_by(Campaign.created_at.desc())
    ).scalars().all()
    is_owner = has_role(organisation.id, Role.OWNER)
    status = 422 if form.errors else 200
    return render_template("admin/organisation.html", organisation=organisation, members=members, form=form,
                           campaigns=campaigns, is_owner=is_owner,
                           invitations=accounts.organisation_invitations(organisation) if is_owner else []), status


@bp.post("/orgs/<org_slug>/invitations/<int:invitation_id>/cancel")
@organisation_view(Role.OWNER)
def cancel_invitation(organisation: Organisation, invitation_id: int):
    invitation = db.session.get(Invitation, invitation_id) if invitation_id < 2**31 else None
    if invitation is None or invitation.organisation_id != organisation.id:
        return render_template("errors/error.html", title=_("Page not found"), text=""), 404
    organisation_service.cancel_invitation(organisation, invitation)
    return redirect(url_for("admin.organisation", org_slug=organisation.slug), code=303)


@bp.post("/orgs/<org_slug>/members/<int:membership_id>/remove")
@organisation_view(Role.OWNER)
def remove_member(organisation: Organisation, membership_id: int):
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        return render_template("errors/error.html", title=_("Page not found"), text=""), 404
    try:
        organisation_service.remove_member(organisation, membership)
    except organisation_service.LastOwner:
        flash(_("An organisation keeps at least one owner."))
    return redirect(url_for("admin.organisation", org_slug=organisation.slug), code=303)


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

"""Admin home, organisations, members and the audit log."""

from __future__ import annotations

from flask import current_app, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from petition_app import audit
from petition_app.admin import accounts, bp
from petition_app.admin.access import (
    any_member_view,
    has_role,
    organisation_view,
    superuser_view,
    visible_campaigns,
    visible_organisations,
)
from petition_app.admin.forms import MemberForm, NewPasswordForm, OrganisationForm
from petition_app.extensions import db, limiter
from petition_app.models import AuditEntry, Campaign, Invitation, Membership, Organisation, Role, User
from petition_app.pages.placeholders import contact_placeholder_languages


@bp.get("/")
@any_member_view
def dashboard():
    campaigns = db.session.execute(visible_campaigns()).scalars().all()
    return render_template("admin/dashboard.html", campaigns=campaigns, organisations=visible_organisations(),
                           can_create=bool(visible_organisations(Role.EDITOR)),
                           invitations=accounts.pending_invitations(current_user),
                           contact_placeholders=contact_placeholder_languages() if current_user.is_superuser else [])


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
    if request.method == "POST":
        if not has_role(organisation.id, Role.OWNER):
            return render_template("errors/error.html", title=_("Not allowed"),
                                   text=_("Only owners can manage members.")), 403
        if form.validate_on_submit():
            # Never a password: the address's holder gets a link (to set one, or to accept) by mail.
            outcome = accounts.invite(organisation, form.email.data, Role(form.role.data))
            db.session.commit()
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
    audit.record("invitation cancelled", invitation.email, organisation.id)
    db.session.delete(invitation)
    db.session.commit()
    return redirect(url_for("admin.organisation", org_slug=organisation.slug), code=303)


# -- invitations, from the invited side -----------------------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def invitation(token: str):
    """The mailed link: a new address sets its password and joins; an existing account accepts or declines."""
    invitation = accounts.invitation_for(token)
    if invitation is None:
        return render_template("admin/link_invalid.html"), 404
    user = accounts.user_by_email(invitation.email)
    form = NewPasswordForm()
    if request.method == "POST":
        if request.form.get("decline"):
            accounts.decline(invitation, actor=user or invitation.email)
            db.session.commit()
            flash(_("You declined the invitation."))
            return redirect(url_for("admin.login"), code=303)
        if user is not None:
            form.new.validators = form.repeat.validators = []
        if form.validate_on_submit():
            if user is None:
                user = accounts.create_invited_account(invitation, form.new.data)
                flash(_("Your account is ready. Log in with your address and the password you chose."))
            else:
                accounts.accept(invitation, user, by_link=True)
                flash(_("You joined %(name)s.", name=invitation.organisation.name))
            db.session.commit()
            return redirect(url_for("admin.login"), code=303)
    status = 422 if form.errors else 200
    return render_template("admin/invitation.html", invitation=invitation, form=form, user=user), status


@bp.post("/invitations/<int:invitation_id>/accept")
@any_member_view
def accept_invitation(invitation_id: int):
    """The invited account, logged in, accepts from its dashboard."""
    return _answer_invitation(invitation_id, "accept")


@bp.post("/invitations/<int:invitation_id>/decline")
@any_member_view
def decline_invitation(invitation_id: int):
    return _answer_invitation(invitation_id, "decline")


def _answer_invitation(invitation_id: int, answer: str):
    invitation = db.session.get(Invitation, invitation_id) if invitation_id < 2**31 else None
    if invitation is None or invitation not in accounts.pending_invitations(current_user):
        return render_template("errors/error.html", title=_("Page not found"), text=""), 404
    if answer == "accept":
        accounts.accept(invitation, current_user)
        flash(_("You joined %(name)s.", name=invitation.organisation.name))
    else:
        accounts.decline(invitation)
    db.session.commit()
    return redirect(url_for("admin.dashboard"), code=303)


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

"""Invitations, from the invited side: set a password and join, or accept or decline."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from petition_app.admin import accounts, bp
from petition_app.admin.access import (
    any_member_view,
)
from petition_app.admin.forms import NewPasswordForm
from petition_app.extensions import db, limiter
from petition_app.models import Invitation

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
            flash(_("You declined the invitation."))
            return redirect(url_for("admin.login"), code=303)
        if user is not None:
            form.new.validators = form.repeat.validators = []
        if form.validate_on_submit():
            if user is None:
                accounts.create_invited_account(invitation, form.new.data)
                flash(_("Your account is ready. Log in with your address and the password you chose."))
            else:
                name = invitation.organisation.name
                accounts.accept(invitation, user, by_link=True)
                flash(_("You joined %(name)s.", name=name))
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
        name = invitation.organisation.name
        accounts.accept(invitation, current_user)
        flash(_("You joined %(name)s.", name=name))
    else:
        accounts.decline(invitation)
    return redirect(url_for("admin.dashboard"), code=303)

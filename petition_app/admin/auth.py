"""Login, logout and password change for admins."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from petition_app import audit
from petition_app.admin import bp
from petition_app.admin.access import any_member_view
from petition_app.admin.forms import ChangePasswordForm, LoginForm
from petition_app.extensions import db, limiter, login_manager
from petition_app.models import User
from petition_app.passwords import hash_password, needs_rehash, verify_password


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    user_id, _, version = identity.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or str(user.session_version) != version:
        return None
    return user


def _safe_next(target: str | None) -> str:
    if (target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target
            and target.isprintable()):  # no CR/LF (header injection) or other control characters
        return target
    return url_for("admin.dashboard")


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _email_key() -> str:
    from petition_app.privacy import email_hash

    return "login:" + email_hash((request.form.get("email") or "")[:254])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(func.lower(User.email) == form.email.data.lower())
        ).scalar_one_or_none()
        if verify_password(user.password_hash if user else None, form.password.data) and user.active:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            audit.record("login", user.email)
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")), code=303)
        form.password.errors.append(_("Wrong email or password."))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
@any_member_view
def logout():
    logout_user()
    return redirect(url_for("admin.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@any_member_view
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            current_user.password_hash = hash_password(form.new.data)
            current_user.session_version += 1  # other sessions end
            audit.record("password changed", current_user.email)
            db.session.commit()
            login_user(current_user)
            flash(_("Your password has been changed."))
            return redirect(url_for("admin.dashboard"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/password.html", form=form), status

"""Login (password, then a two-factor code when enabled), logout, password change and password recovery."""

from __future__ import annotations

import time

import limits
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from petition_app.admin import accounts, bp
from petition_app.admin.access import any_member_view
from petition_app.admin.forms import ChangePasswordForm, CodeForm, ForgotPasswordForm, LoginForm, NewPasswordForm
from petition_app.errors import render_error
from petition_app.extensions import db, limiter, login_manager
from petition_app.models import User
from petition_app.passwords import needs_rehash, verify_password

PENDING = "pending_login"  # the session key holding a password-checked login waiting for its second factor
PENDING_SECONDS = 300


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    user_id, _, version = identity.partition(":")
    if not user_id.isdigit() or len(user_id) > 18:
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


def _reset_limit() -> str:
    return current_app.config["RATELIMIT_PASSWORD_RESET"]


def _email_key() -> str:
    from petition_app.privacy import email_hash

    return email_hash("reset:" + (request.form.get("email") or "")[:254])[:32]


# -- per-account failure limits -------------------------------------------------------------------------------------
# Only failures count against an account, and a correct password (or code) from a client that is not itself
# limited still gets in: an attacker flooding an account with guesses slows the guessing, never its holder.


def _account_limits() -> list[limits.RateLimitItem]:
    return limits.parse_many(current_app.config["RATELIMIT_LOGIN"])


def _account_key(kind: str, identity: str) -> str:
    """A keyed hash naming neither the account nor the action, as the limiter's storage (Redis) sees it."""
    from petition_app.privacy import email_hash

    return email_hash(f"{kind}:{identity[:254]}")[:32]


def _key_parts(key: str) -> tuple[str, ...]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    return (prefix, key) if prefix else (key,)


def _failures_exceeded(key: str) -> bool:
    if not limiter.enabled:
        return False
    return not all(limiter.limiter.test(item, *_key_parts(key)) for item in _account_limits())


def _record_failure(key: str) -> None:
    if limiter.enabled:
        for item in _account_limits():
            limiter.limiter.hit(item, *_key_parts(key))


def _slow_down():
    return render_error(429, _("Too many wrong attempts for this account. Please wait a minute and try again."))


# -- logging in -----------------------------------------------------------------------------------------------------


def _complete_login(user: User, next_url: str | None):
    """Start a fresh session for the account (a new CSRF token too) and record the login under its name."""
    session.clear()
    login_user(user)
    accounts.record_login(user)
    return redirect(_safe_next(next_url), code=303)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        key = _account_key("login", form.email.data.lower())
        limited = _failures_exceeded(key)
        user = accounts.user_by_email(form.email.data)
        if verify_password(user.password_hash if user else None, form.password.data) and user.active:
            if user.must_reset_password:
                # Someone else may know this password: the holder proves the mailbox before it is set again.
                accounts.require_new_password(user)
                return render_template("admin/reset_required.html")
            if needs_rehash(user.password_hash):
                accounts.rehash_password(user, form.password.data)
            if user.totp_secret:
                session.clear()
                session[PENDING] = {"user": user.id, "version": user.session_version,
                                    "next": request.args.get("next"), "at": int(time.time())}
                return redirect(url_for("admin.login_code"), code=303)
            return _complete_login(user, request.args.get("next"))
        _record_failure(key)
        if limited:
            return _slow_down()
        form.password.errors.append(_("Wrong email or password."))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form), status


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = db.session.get(User, int(pending.get("user", 0)))
    if user is None or not user.active or user.session_version != pending.get("version") or not user.totp_secret:
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_code():
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        return redirect(url_for("admin.login"), code=303)
    form = CodeForm()
    if form.validate_on_submit():
        key = _account_key("code", str(user.id))
        limited = _failures_exceeded(key)
        if accounts.check_second_factor(user, form.code.data):
            return _complete_login(user, session.get(PENDING, {}).get("next"))
        db.session.rollback()
        _record_failure(key)
        if limited:
            return _slow_down()
        form.code.errors.append(_("This code is not right, or was used already."))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/login_code.html", form=form), status


@bp.post("/logout")
@any_member_view
def logout():
    # Ending the account's session version makes every copy of this session cookie worthless.
    user = db.session.get(User, current_user.id)
    accounts.log_out_everywhere(user)
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@any_member_view
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        key = _account_key("password", str(current_user.id))
        limited = _failures_exceeded(key)
        if not verify_password(current_user.password_hash, form.current.data):
            _record_failure(key)
            if limited:
                return _slow_down()
            form.current.errors.append(_("This is not your current password."))
        else:
            accounts.change_password(current_user, form.new.data, "password changed")  # other sessions end
            login_user(current_user)
            flash(_("Your password has been changed."))
            return redirect(url_for("admin.dashboard"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/password.html", form=form), status


# -- password recovery ----------------------------------------------------------------------------------------------


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@limiter.limit(_reset_limit, methods=["POST"], key_func=_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_reset(form.email.data)
        return redirect(url_for("admin.forgot_sent"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/forgot.html", form=form), status


@bp.get("/forgot/sent")
def forgot_sent():
    return render_template("admin/forgot_sent.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str):
    user = accounts.reset_user_for(token)
    if user is None:
        return render_template("admin/link_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        # the link is used up and every session ends
        accounts.change_password(user, form.new.data, "password reset", detail="by a mailed link", actor=user)
        if current_user.is_authenticated:
            logout_user()
        session.clear()
        flash(_("Your password has been set. You can log in with it now."))
        return redirect(url_for("admin.login"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/reset.html", form=form, email=user.email), status

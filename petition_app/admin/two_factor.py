"""Optional two-factor login (TOTP): enrol with a QR code drawn here, confirm with a code, recovery codes, disable."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from petition_app.admin import accounts, bp
from petition_app.admin.access import any_member_view
from petition_app.admin.auth import _account_key, _failures_exceeded, _record_failure, _slow_down
from petition_app.admin.forms import DisableTwoFactorForm, EnableTwoFactorForm
from petition_app.extensions import db, limiter
from petition_app.passwords import verify_password

ENROLLING = "totp_enrolling"  # the secret being set up, kept in the (signed) session until confirmed


def _limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _enrol_page(form: EnableTwoFactorForm, status: int = 200):
    secret = session.get(ENROLLING)
    if not secret:
        secret = session[ENROLLING] = accounts.new_totp_secret()
    uri = accounts.provisioning_uri(current_user, secret)
    return render_template("admin/two_factor.html", enabled=False, form=form, secret=secret,
                           qr=accounts.qr_svg(uri)), status


@bp.get("/two-factor")
@any_member_view
def two_factor():
    if current_user.totp_secret:
        return render_template("admin/two_factor.html", enabled=True, form=DisableTwoFactorForm(),
                               codes_left=accounts.recovery_codes_left(current_user))
    return _enrol_page(EnableTwoFactorForm())


@bp.post("/two-factor/enable")
@limiter.limit(_limit)
@any_member_view
def enable_two_factor():
    if current_user.totp_secret:
        return redirect(url_for("admin.two_factor"), code=303)
    form = EnableTwoFactorForm()
    secret = session.get(ENROLLING)
    if form.validate_on_submit() and secret:
        step = accounts.verify_totp_setup(secret, form.code.data)
        if step is not None:
            codes = accounts.turn_on_two_factor(current_user, secret, step)
            session.pop(ENROLLING, None)
            return render_template("admin/recovery_codes.html", codes=codes)
        form.code.errors.append(_("This code is not right. Check the time on your phone and try the next code."))
    return _enrol_page(form, 422)


@bp.post("/two-factor/disable")
@limiter.limit(_limit)
@any_member_view
def disable_two_factor():
    if not current_user.totp_secret:
        return redirect(url_for("admin.two_factor"), code=303)
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        key = _account_key("code", str(current_user.id))
        limited = _failures_exceeded(key)
        if (verify_password(current_user.password_hash, form.password.data)
                and accounts.check_second_factor(current_user, form.code.data)):
            accounts.turn_off_two_factor(current_user)
            flash(_("Two-factor login is off."))
            return redirect(url_for("admin.two_factor"), code=303)
        db.session.rollback()
        _record_failure(key)
        if limited:
            return _slow_down()
        form.code.errors.append(_("The password or the code is not right."))
    return render_template("admin/two_factor.html", enabled=True, form=form,
                           codes_left=accounts.recovery_codes_left(current_user)), 422

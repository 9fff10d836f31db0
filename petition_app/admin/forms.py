from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from petition_app.admin.campaign_forms import clean_multiline
from petition_app.models import Role
from petition_app.validators import NoControlCharacters, clean_text


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[clean_text], validators=[DataRequired(), Length(max=254),
                                                                       NoControlCharacters()],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)],
                             render_kw={"autocomplete": "current-password"})


class OrganisationForm(FlaskForm):
    slug = StringField(_l("Short name (in addresses)"), filters=[clean_text], validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Lower-case letters, digits and hyphens only."))])
    name = StringField(_l("Name"), filters=[clean_text], validators=[DataRequired(), Length(max=200),
                                                                     NoControlCharacters()])


class MemberForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[clean_text], validators=[
        DataRequired(), Length(max=254), Email(message=_l("This does not look like an email address."))])
    role = SelectField(_l("Role"), choices={r.value: r.value for r in Role})


class NewPasswordForm(FlaskForm):
    """Choose a password (from an invitation or a reset link)."""

    new = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=12, max=1000, message=_l("Use at least 12 characters."))],
        render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(NewPasswordForm):
    """Change one's own password: the current one, then a new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1000)],
                            render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[clean_text], validators=[
        DataRequired(), Length(max=254), NoControlCharacters(),
        Email(message=_l("This does not look like an email address."))],
        render_kw={"autocomplete": "username"})


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your app, or a recovery code"), filters=[clean_text],
                       validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "off"})


class EnableTwoFactorForm(FlaskForm):
    code = StringField(_l("Code shown by your app"), filters=[clean_text], validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code from your app, or a recovery code"), filters=[clean_text],
                       validators=[DataRequired(), Length(max=20)], render_kw={"autocomplete": "one-time-code"})


class ReasonForm(FlaskForm):
    """The reason a moderator gives for turning a proposal down or taking a campaign down; mailed to the starter."""

    reason = TextAreaField(
        _l("Reason (sent to the starter)"),
        filters=[clean_multiline],
        validators=[DataRequired(_l("Please give a reason: it is sent to the starter.")),
                    Length(max=2000, message=_l("Please keep this under %(max)d characters.")),
                    NoControlCharacters(allow_newlines=True)],
        render_kw={"maxlength": 2000, "rows": 4},
    )

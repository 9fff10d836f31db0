"""Site settings (superusers): name, primary colour, footer, mail sender name and the "start" invitation."""

from __future__ import annotations

import math

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, StringField
from wtforms.validators import Length, ValidationError

from petition_app import site_logo, site_settings
from petition_app.admin import bp
from petition_app.admin.access import superuser_view
from petition_app.extensions import db
from petition_app.models import AuditEntry
from petition_app.validators import NoControlCharacters, clean_text

# Per-language text settings: (key, label, hint, maximum length).
TEXTS = (
    ("site_name", _l("Site name"), _l("In the header, page titles and mails."), 100),
    ("footer_text", _l("Footer text"), _l("A line at the foot of every page, e.g. who runs the site."), 500),
    ("start_invitation", _l("“Start your campaign” invitation"),
     _l("The link to the proposal form on the home and campaign pages."), 300),
    ("mail_sender_name", _l("Mail sender name"), _l("The name mails come from (the address stays the same)."), 60),
)
AUDIT_ACTIONS = ("site settings changed", "site page edited", "site page reset")


def _colour(form, field) -> None:
    if not field.data:
        return
    colour = site_settings.parse_colour(field.data)
    if colour is None:
        raise ValidationError(_("Enter a colour as # and six hexadecimal digits, e.g. #5b2a86."))
    ratio = site_settings.contrast_with_white(colour)
    if ratio < site_settings.WCAG_AA:
        # Rounded down: a ratio just under the minimum must not read as the minimum.
        raise ValidationError(_(
            "White text on %(colour)s has a contrast ratio of %(ratio)s:1; at least 4.5:1 is needed (WCAG AA) "
            "so that headers and buttons stay readable. Choose a darker colour.",
            colour=colour, ratio=f"{math.floor(ratio * 100) / 100:.2f}"))
    field.data = colour


def settings_form(languages: list[str], data: dict | None = None) -> FlaskForm:
    """The settings form: the colour, then each text setting once per language (fields named key_language)."""

    class SettingsForm(FlaskForm):
        primary_colour = StringField(_l("Primary colour"), filters=[clean_text],
                                     validators=[Length(max=7), _colour],
                                     render_kw={"placeholder": "#5b2a86", "autocomplete": "off"})
        logo = FileField(_l("Logo"), render_kw={"accept": "image/png,image/jpeg,image/webp"})
        remove_logo = BooleanField(_l("Remove the logo"))

    for language in languages:
        for key, label, _hint, maximum in TEXTS:
            setattr(SettingsForm, f"{key}_{language}", StringField(
                label, filters=[clean_text], validators=[Length(max=maximum), NoControlCharacters()],
                render_kw={"lang": language}))
    return SettingsForm(data=data)


def _form_data(languages: list[str]) -> dict:
    values = site_settings.snapshot().values
    data = {"primary_colour": values.get("primary_colour", "")}
    for language in languages:
        for key, *_rest in TEXTS:
            data[f"{key}_{language}"] = values.get(f"{key}:{language}", "")
    return data


def _recent_changes() -> list[AuditEntry]:
    return list(db.session.execute(
        select(AuditEntry).where(AuditEntry.organisation_id.is_(None), AuditEntry.action.in_(AUDIT_ACTIONS))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(20)).scalars())


def _submitted_values(form, languages: list[str]) -> dict[tuple[str, str], str] | None:
    """The settings as sent, the logo stored; None (and the errors on the form) when something is refused."""
    if not form.validate_on_submit():
        return None
    values = {("primary_colour", ""): form.primary_colour.data or ""}
    for language in languages:
        for key, *_rest in TEXTS:
            values[(key, language)] = form[f"{key}_{language}"].data or ""
    if form.remove_logo.data:
        values.update({("logo", ""): "", ("logo_png", ""): ""})
    elif form.logo.data:
        try:
            values.update(site_logo.settings_values(form.logo.data.read(site_logo.MAX_BYTES + 1)))
        except site_logo.LogoError as error:
            form.logo.errors = [str(error)]
            return None
    return values


@bp.route("/settings", methods=["GET", "POST"])
@superuser_view
def site_settings_edit():
    languages = list(current_app.config["LANGUAGES"])
    form = settings_form(languages, None if request.method == "POST" else _form_data(languages))
    values = _submitted_values(form, languages)
    if values is not None:
        try:
            changed = site_settings.change(values)
        except site_settings.SavedMeanwhile:
            form.primary_colour.errors.append(_("Someone else saved the settings just now. Reload to see them."))
        else:
            flash(_("The settings were saved.") if changed else _("Nothing was changed."))
            return redirect(url_for("admin.site_settings_edit"), code=303)
    status = 422 if form.errors else 200
    return render_template("admin/settings.html", form=form, language_codes=languages, texts=TEXTS,
                           logo=site_logo.parse(site_settings.value("logo")), changes=_recent_changes()), status

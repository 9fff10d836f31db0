"""An organisation's public details (name, website, description), edited by its owners (and superusers)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from petition_app import organisations
from petition_app.admin import bp
from petition_app.admin.access import organisation_view
from petition_app.models import Organisation, Role
from petition_app.validators import NoControlCharacters, clean_text


def _web_address(form, field) -> None:
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in field.data:
        raise ValidationError(_("Enter a full web address starting with https:// (or http://)."))


class OrganisationDetailsForm(FlaskForm):
    name = StringField(_l("Name"), filters=[clean_text],
                       validators=[DataRequired(), Length(max=200), NoControlCharacters()])
    website = StringField(_l("Website"), filters=[clean_text],
                          validators=[Length(max=500), NoControlCharacters(), _web_address],
                          render_kw={"inputmode": "url", "autocomplete": "url", "placeholder": "https://"})
    description = TextAreaField(_l("Description"), filters=[clean_text],
                                validators=[Length(max=5000), NoControlCharacters(allow_newlines=True)],
                                render_kw={"rows": 6})


@bp.route("/orgs/<org_slug>/details", methods=["GET", "POST"])
@organisation_view(Role.OWNER)
def organisation_details(organisation: Organisation):
    form = OrganisationDetailsForm(obj=organisation) if request.method == "GET" else OrganisationDetailsForm()
    if form.validate_on_submit():
        changed = organisations.update_details(organisation, form.name.data, form.website.data,
                                               form.description.data)
        flash(_("The details were saved.") if changed else _("Nothing was changed."))
        return redirect(url_for("admin.organisation", org_slug=organisation.slug), code=303)
    status = 422 if form.errors else 200
    return render_template("admin/organisation_details.html", organisation=organisation, form=form), status

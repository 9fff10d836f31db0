"""Admin: a campaign's picture (editors) and an organisation's logo (owners): upload, preview, alt text, remove.

Every upload goes through images.store_image (decoded, stripped of metadata, re-encoded); pictures.py makes the
change, audits and commits it, and deletes the old picture's files once nothing names them.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from petition_app import images, pictures
from petition_app.admin import bp
from petition_app.admin.access import campaign_view, organisation_view
from petition_app.models import Campaign, Organisation, Role
from petition_app.validators import NoControlCharacters, clean_text

ACCEPT = "image/jpeg,image/png,image/webp"


class CampaignImageForm(FlaskForm):
    picture = FileField(_l("Picture (JPEG, PNG or WebP)"), render_kw={"accept": ACCEPT})
    alt = StringField(_l("Description for people who cannot see the picture (alt text)"), filters=[clean_text],
                      validators=[DataRequired(), Length(max=300), NoControlCharacters()])


class LogoForm(FlaskForm):
    picture = FileField(_l("Logo (JPEG, PNG or WebP)"), render_kw={"accept": ACCEPT})


class RemoveForm(FlaskForm):
    pass


images.UPLOAD_ENDPOINTS.update({"admin.campaign_image", "admin.organisation_logo"})


def _upload(form, kind: str) -> images.StoredImage | None | bool:
    """The stored upload; None when no file was chosen; False, with an error on the form's field, when refused."""
    upload = form.picture.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    try:
        return images.store_image(upload, kind)
    except images.ImageRefused as refused:
        form.picture.errors = [*form.picture.errors, str(refused)]
        return False


@bp.route("/campaigns/<int:campaign_id>/image", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def campaign_image(campaign: Campaign):
    current = campaign.image
    form = CampaignImageForm(obj=current)
    if form.validate_on_submit():
        stored = _upload(form, "campaign")
        if stored is None and current is None:
            form.picture.errors = [*form.picture.errors, _("Choose a picture to upload.")]
        elif stored is not False:
            pictures.set_campaign_picture(campaign, stored, form.alt.data)
            flash(_("The picture was saved."))
            return redirect(url_for("admin.campaign_image", campaign_id=campaign.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/campaign_image.html", campaign=campaign, image=current, form=form), status


@bp.post("/campaigns/<int:campaign_id>/image/remove")
@campaign_view(Role.EDITOR)
def campaign_image_remove(campaign: Campaign):
    current = campaign.image
    if RemoveForm().validate_on_submit() and current is not None:
        pictures.remove_campaign_picture(campaign)
        flash(_("The picture was removed."))
    return redirect(url_for("admin.campaign_image", campaign_id=campaign.id), code=303)


@bp.route("/orgs/<org_slug>/logo", methods=["GET", "POST"])
@organisation_view(Role.OWNER)
def organisation_logo(organisation: Organisation):
    current = organisation.logo
    form = LogoForm()
    if form.validate_on_submit():
        stored = _upload(form, "logo")
        if stored is None:
            form.picture.errors = [*form.picture.errors, _("Choose a picture to upload.")]
        elif stored is not False:
            pictures.set_organisation_logo(organisation, stored)
            flash(_("The logo was saved."))
            return redirect(url_for("admin.organisation_logo", org_slug=organisation.slug), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/organisation_logo.html", organisation=organisation, image=current, form=form), status


@bp.post("/orgs/<org_slug>/logo/remove")
@organisation_view(Role.OWNER)
def organisation_logo_remove(organisation: Organisation):
    current = organisation.logo
    if RemoveForm().validate_on_submit() and current is not None:
        pictures.remove_organisation_logo(organisation)
        flash(_("The logo was removed."))
    return redirect(url_for("admin.organisation_logo", org_slug=organisation.slug), code=303)

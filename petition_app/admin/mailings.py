"""Update mails to a campaign's signers who opted in: list, compose, preview, test, send, progress (editors)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from petition_app import audit, exports, mailings
from petition_app.admin import bp
from petition_app.admin.access import campaign_view, has_role
from petition_app.admin.campaign_forms import MarkdownField, clean_multiline
from petition_app.admin.previews import preview_html
from petition_app.extensions import db
from petition_app.i18n import LANGUAGE_NAMES
from petition_app.models import Campaign, Mailing, MailingStatus, Role, Signature, User
from petition_app.validators import NoControlCharacters, clean_text

STATUS_ACTIONS = {  # the buttons offered for each status: (target status, label)
    MailingStatus.SENDING: ((MailingStatus.PAUSED, _l("Pause")), (MailingStatus.CANCELLED, _l("Cancel the mailing"))),
    MailingStatus.PAUSED: ((MailingStatus.SENDING, _l("Resume")), (MailingStatus.CANCELLED, _l("Cancel the mailing"))),
}


def _language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


def mailing_form(campaign: Campaign, **kwargs) -> FlaskForm:
    """A form with a subject and a Markdown text per language; only the campaign's language is required."""

    class MailingForm(FlaskForm):
        pass

    for language in mailings.languages(campaign):
        name = _language_name(language)
        setattr(MailingForm, f"subject_{language}", StringField(
            _l("Subject (%(language)s)", language=name), filters=[clean_text],
            validators=[NoControlCharacters()], render_kw={"maxlength": mailings.SUBJECT_MAX}))
        setattr(MailingForm, f"body_{language}", MarkdownField(
            _l("Text (%(language)s)", language=name), filters=[clean_multiline],
            validators=[NoControlCharacters(allow_newlines=True)]))
    return MailingForm(**kwargs)


def _texts(form, campaign: Campaign) -> dict[str, tuple[str, str]]:
    return {language: (form[f"subject_{language}"].data or "", form[f"body_{language}"].data or "")
            for language in mailings.languages(campaign)}


def _mailing_or_404(campaign: Campaign, mailing_id: int) -> Mailing:
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.campaign_id != campaign.id:
        abort(404)
    return mailing


def _sealed_page(campaign: Campaign):
    return render_template("admin/mailings_sealed.html", campaign=campaign,
                           opted_in=mailings.count_opted_in_sealed(campaign),
                           is_owner=has_role(campaign.organisation_id, Role.OWNER)), 409


@bp.get("/campaigns/<int:campaign_id>/mailings")
@campaign_view(Role.EDITOR)
def mailings_list(campaign: Campaign):
    found = mailings.campaign_mailings(campaign)
    authors = dict(db.session.execute(select(User.id, User.email).where(
        User.id.in_({m.created_by_id for m in found if m.created_by_id})).order_by(User.id)).all()) if found else {}
    return render_template(
        "admin/mailings.html", campaign=campaign, mailings=found, authors=authors,
        sealed=mailings.is_sealed(campaign), eligible=mailings.count_eligible(campaign),
        opted_in_sealed=mailings.count_opted_in_sealed(campaign),
        is_owner=has_role(campaign.organisation_id, Role.OWNER),
    )


def _render_form(campaign: Campaign, form, mailing: Mailing | None, status: int = 200):
    previews = {name: preview_html(form[name].data or "") for name in form.data if name.startswith("body_")}
    fields = [(form[f"subject_{language}"], form[f"body_{language}"], previews[f"body_{language}"])
              for language in mailings.languages(campaign)]
    return render_template("admin/mailing_form.html", campaign=campaign, form=form, mailing=mailing,
                           fields=fields), status


@bp.route("/campaigns/<int:campaign_id>/mailings/new", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def mailing_new(campaign: Campaign):
    if mailings.is_sealed(campaign):
        return _sealed_page(campaign)
    form = mailing_form(campaign)
    if request.method == "POST" and "preview" not in request.form and form.validate():
        try:
            mailing = mailings.draft(campaign, _texts(form, campaign), current_user)
        except mailings.MailingError as error:
            form.form_errors.append(str(error))
            return _render_form(campaign, form, None, 422)
        return redirect(url_for("admin.mailing", campaign_id=campaign.id, mailing_id=mailing.id), code=303)
    return _render_form(campaign, form, None, 422 if form.errors else 200)


@bp.route("/campaigns/<int:campaign_id>/mailings/<int:mailing_id>/edit", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def mailing_edit(campaign: Campaign, mailing_id: int):
    mailing = _mailing_or_404(campaign, mailing_id)
    if mailing.status != MailingStatus.DRAFT:
        flash(_("Only a draft can be changed."))
        return redirect(url_for("admin.mailing", campaign_id=campaign.id, mailing_id=mailing.id), code=303)
    data = {}
    for version in mailing.versions:
        data[f"subject_{version.language}"] = version.subject
        data[f"body_{version.language}"] = version.body
    form = mailing_form(campaign, data=data)
    if request.method == "POST" and "preview" not in request.form and form.validate():
        try:
            mailings.edit_draft(mailing, campaign, _texts(form, campaign))
        except mailings.MailingError as error:
            form.form_errors.append(str(error))
            return _render_form(campaign, form, mailing, 422)
        return redirect(url_for("admin.mailing", campaign_id=campaign.id, mailing_id=mailing.id), code=303)
    return _render_form(campaign, form, mailing, 422 if form.errors else 200)


@bp.get("/campaigns/<int:campaign_id>/mailings/<int:mailing_id>")
@campaign_view(Role.EDITOR)
def mailing(campaign: Campaign, mailing_id: int):
    mailing = _mailing_or_404(campaign, mailing_id)
    language, written = _preview_language(campaign, mailing)
    return render_template(
        "admin/mailing.html", campaign=campaign, mailing=mailing, language=language, written=written,
        preview=mailings.preview(mailing, campaign, language), progress=mailings.progress(mailing),
        eligible=mailings.count_eligible(campaign), sealed=mailings.is_sealed(campaign),
        actions=STATUS_ACTIONS.get(mailing.status, ()), language_name=_language_name,
    )


# The mail's HTML keeps its inline styles (mail clients need them): shown in a sandboxed frame of the admin page only.
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"


def _preview_language(campaign: Campaign, mailing: Mailing) -> tuple[str, list[str]]:
    written = [v.language for v in mailing.versions]
    language = request.args.get("language", campaign.language)
    if language not in written:
        language = campaign.language if campaign.language in written else (written[0] if written else language)
    return language, written


@bp.get("/campaigns/<int:campaign_id>/mailings/<int:mailing_id>/preview.html")
@campaign_view(Role.EDITOR)
def mailing_preview_html(campaign: Campaign, mailing_id: int):
    """The mail's HTML as a signer gets it, for the preview frame."""
    mailing = _mailing_or_404(campaign, mailing_id)
    preview = mailings.preview(mailing, campaign, _preview_language(campaign, mailing)[0])
    if preview is None:
        abort(404)
    response = Response(preview["html"], mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/campaigns/<int:campaign_id>/mailings/<int:mailing_id>/test")
@campaign_view(Role.EDITOR)
def mailing_test(campaign: Campaign, mailing_id: int):
    """Send the mail, as a signer in the chosen language gets it, to the editor's own address."""
    mailing = _mailing_or_404(campaign, mailing_id)
    language = request.form.get("language", campaign.language)
    try:
        mailings.queue_test(mailing, campaign, language, current_user.email)
    except mailings.MailingError as error:
        flash(str(error))
    else:
        flash(_("A test was sent to %(address)s.", address=current_user.email))
    return redirect(url_for("admin.mailing", campaign_id=campaign.id, mailing_id=mailing.id, language=language),
                    code=303)


@bp.post("/campaigns/<int:campaign_id>/mailings/<int:mailing_id>/status")
@campaign_view(Role.EDITOR)
def mailing_status(campaign: Campaign, mailing_id: int):
    """Send (from a draft), pause, resume or cancel."""
    mailing = _mailing_or_404(campaign, mailing_id)
    try:
        target = MailingStatus(request.form.get("to", ""))
    except ValueError:
        abort(400)
    try:
        before = mailings.set_status(mailing, campaign, target)
    except mailings.MailingError as error:
        flash(str(error))
        return redirect(url_for("admin.mailing", campaign_id=campaign.id, mailing_id=mailing_id), code=303)
    if before == MailingStatus.DRAFT:
        flash(_("Sending to %(num)s signers has started.", num=mailing.recipients))
    return redirect(url_for("admin.mailing", campaign_id=campaign.id, mailing_id=mailing.id), code=303)


@bp.get("/campaigns/<int:campaign_id>/mailings/opted-in.csv")
@campaign_view(Role.OWNER)
def mailing_opted_in_csv(campaign: Campaign):
    """The confirmed signers who agreed to updates (sealed data stays sealed): for mailing from the organisation's
    own machine, where the private key opens it."""
    audit.log("opted-in export downloaded", campaign.slug, campaign.organisation_id)
    conditions = [Signature.campaign_id == campaign.id, Signature.consent_email.is_(True),
                  Signature.confirmed_at.is_not(None), Signature.email_hash.is_not(None)]
    response = Response(stream_with_context(exports.full_csv(campaign, conditions=conditions)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{campaign.slug}-opted-in.csv"'
    return response

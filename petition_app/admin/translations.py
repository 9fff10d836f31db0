"""Admin: a campaign's versions in other languages, edited side by side with the source."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from petition_app import campaign_versions as translations
from petition_app.admin import bp
from petition_app.admin.access import campaign_view
from petition_app.admin.campaign_forms import TEXT_MAX, MarkdownField, clean_multiline
from petition_app.markup import render_markdown
from petition_app.models import Campaign, CampaignTranslation, Role
from petition_app.models.translation import TRANSLATED_FIELDS
from petition_app.validators import NoControlCharacters, clean_text

MARKDOWN_FIELDS = ("body", "petition_text", "petition_closing")


def _line(max_length: int, required: bool = False) -> list:
    return [DataRequired() if required else Optional(), Length(max=max_length), NoControlCharacters()]


def _text() -> list:
    return [Optional(), Length(max=TEXT_MAX), NoControlCharacters(allow_newlines=True)]


class TranslationForm(FlaskForm):
    title = StringField(_l("Title"), filters=[clean_text], validators=_line(300, required=True))
    lead = TextAreaField(_l("Lead paragraph"), filters=[clean_multiline], validators=_text(), render_kw={"rows": 3})
    body = MarkdownField(_l("Body"), filters=[clean_multiline], validators=_text())
    quote = TextAreaField(_l("Quote"), filters=[clean_multiline], validators=_text(), render_kw={"rows": 3})
    quote_attribution = StringField(_l("Quote attribution"), filters=[clean_text], validators=_line(300))
    petition_heading = StringField(_l("Petition heading"), filters=[clean_text], validators=_line(300))
    targets = TextAreaField(_l("Addressed to"), filters=[clean_multiline], validators=_text(), render_kw={"rows": 2})
    petition_text = MarkdownField(_l("Petition text"), filters=[clean_multiline], validators=_text())
    demands = TextAreaField(_l("Demands"), filters=[clean_multiline], validators=_text(), render_kw={"rows": 5})
    petition_closing = MarkdownField(_l("Closing text"), filters=[clean_multiline], validators=_text())
    delivery_note = TextAreaField(_l("Delivery note"), filters=[clean_multiline], validators=_text(),
                                  render_kw={"rows": 3})
    up_to_date = BooleanField(_l("This version says what the current source says"))


def _form_class(campaign: Campaign) -> type[TranslationForm]:
    """The form with a title and a text for each of the campaign's dated updates."""
    fields = {}
    for update in campaign.updates:
        fields[f"update_{update.id}_title"] = StringField(_l("Title (optional)"), filters=[clean_text],
                                                          validators=_line(300))
        fields[f"update_{update.id}_body"] = MarkdownField(_l("Text"), filters=[clean_multiline], validators=_text(),
                                                           render_kw={"rows": 6})
    return type("CampaignTranslationForm", (TranslationForm,), fields)


def _language_or_404(campaign: Campaign, language: str) -> str:
    if language not in translations.translatable_languages(campaign):
        abort(404)
    return language


def _translation_or_404(campaign: Campaign, language: str) -> CampaignTranslation:
    found = translations.translation_for(campaign, _language_or_404(campaign, language))
    if found is None:
        abort(404)
    return found


def _ui_name(language: str) -> str:
    """The language's name in the admin's own language (for sentences such as "Add a version in Russian")."""
    return translations.language_name(language, str(get_locale()))


@bp.get("/campaigns/<int:campaign_id>/translations")
@campaign_view(Role.EDITOR)
def campaign_translations(campaign: Campaign):
    return render_template("admin/translations.html", campaign=campaign)


@bp.app_template_global("admin_versions")
def versions_overview(campaign: Campaign) -> dict:
    """The site's other languages with the campaign's version in each (or none), and whether it needs an update."""
    existing = {t.language: t for t in campaign.translations}
    source = translations.fingerprint(campaign)
    ui = str(get_locale())
    rows = [{"code": code, "name": translations.language_name(code), "ui_name": translations.language_name(code, ui),
             "translation": existing.get(code),
             "needs_update": code in existing and existing[code].source_fingerprint != source}
            for code in translations.translatable_languages(campaign)]
    return {"version_rows": rows, "source_name": translations.language_name(campaign.language, ui)}


@bp.route("/campaigns/<int:campaign_id>/translations/<version>", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def translation_edit(campaign: Campaign, version: str):
    language = _language_or_404(campaign, version)
    translation = translations.translation_for(campaign, language)
    stale = translation is not None and translations.needs_update(translation, campaign)
    form_class = _form_class(campaign)
    if request.method == "GET" and translation is not None:
        existing = translations.update_texts_for(campaign, language)
        data = {name: getattr(translation, name) for name in TRANSLATED_FIELDS}
        for update in campaign.updates:
            found = existing.get(update.id)
            data[f"update_{update.id}_title"] = found.title if found else ""
            data[f"update_{update.id}_body"] = found.body if found else ""
        form = form_class(data=data)
    else:
        form = form_class()
    if request.method == "POST" and request.form.get("preview") != "1" and form.validate_on_submit():
        texts = {name: getattr(form, name).data or "" for name in TRANSLATED_FIELDS}
        update_texts = {u.id: (getattr(form, f"update_{u.id}_title").data or "",
                               getattr(form, f"update_{u.id}_body").data or "") for u in campaign.updates}
        translations.write_version(campaign, language, texts, update_texts, matches_source=bool(form.up_to_date.data))
        flash(_("The version in %(language)s was saved.", language=_ui_name(language)))
        return redirect(url_for("admin.campaign_translations", campaign_id=campaign.id), code=303)
    previews = {name: render_markdown(getattr(form, name).data or "") for name in MARKDOWN_FIELDS}
    for update in campaign.updates:
        previews[f"update_{update.id}_body"] = render_markdown(getattr(form, f"update_{update.id}_body").data or "")
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template(
        "admin/translation_form.html", campaign=campaign, form=form, language=language, translation=translation,
        stale=stale, previews=previews, fields=TRANSLATED_FIELDS, markdown_fields=MARKDOWN_FIELDS,
        language_label=_ui_name(language), source_label=_ui_name(campaign.language),
    ), status


@bp.post("/campaigns/<int:campaign_id>/translations/<version>/up-to-date")
@campaign_view(Role.EDITOR)
def translation_up_to_date(campaign: Campaign, version: str):
    language = version
    translation = _translation_or_404(campaign, language)
    translations.confirm_version(translation)
    flash(_("The version in %(language)s is marked as up to date.",
            language=_ui_name(language)))
    return redirect(url_for("admin.campaign_translations", campaign_id=campaign.id), code=303)


@bp.route("/campaigns/<int:campaign_id>/translations/<version>/delete", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def translation_delete(campaign: Campaign, version: str):
    language = version
    translation = _translation_or_404(campaign, language)
    if request.method == "GET":
        return render_template("admin/translation_delete.html", campaign=campaign, translation=translation,
                               language_label=_ui_name(language))
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    translations.remove_version(translation)
    flash(_("The version in %(language)s was deleted.", language=_ui_name(language)))
    return redirect(url_for("admin.campaign_translations", campaign_id=campaign.id), code=303)

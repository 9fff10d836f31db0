"""A campaign's versions in several languages: one campaign, one counter, one signature list, several texts.

The campaign row is the source version, in `Campaign.language`, at `/campaigns/<slug>`. Each translation has its
own address, `/<lang>/campaigns/<slug>` (and the sign, thanks, counter and actions addresses below it), where the
whole page is in that language. Signing any version signs the campaign: the signature table's unique
(campaign, address) key makes the second version's signature a duplicate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_babel import get_locale
from sqlalchemy import select
from werkzeug.routing import BaseConverter, ValidationError

from petition_app import audit
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignTranslation, CampaignUpdate, CampaignUpdateTranslation
from petition_app.models.translation import TRANSLATED_FIELDS

# Public endpoints that exist once per version; links among them keep the version the visitor is reading.
VERSIONED_ENDPOINTS = frozenset({
    "campaigns.show", "campaigns.thanks", "campaigns.counter", "campaigns.actions", "signing.sign_view",
    "embed.show", "embed.thanks",
})


class TranslationError(ValueError):
    """A translation that cannot be saved; the message says why."""


# -- languages -------------------------------------------------------------------------------------------------------


class LanguageConverter(BaseConverter):
    """A UI language code from the configuration (`LANGUAGES`); anything else is not a version address."""

    regex = r"[a-z]{2,3}"

    def to_python(self, value: str) -> str:
        if value not in current_app.config["LANGUAGES"]:
            raise ValidationError()
        return value


def language_name(code: str, in_language: str | None = None) -> str:
    """The language's name from Babel (in its own language unless another is given)."""
    try:
        name = Locale.parse(code).get_display_name(in_language or code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]  # a name standing alone, as in a list of languages


def og_locale(code: str) -> str:
    """The Open Graph form of a language: `ru` → `ru_RU`, by CLDR's likely subtags."""
    try:
        locale = Locale.parse(get_global("likely_subtags").get(code, code))
    except (ValueError, UnknownLocaleError):
        return code
    return f"{locale.language}_{locale.territory}" if locale.territory else locale.language


# -- the source's fingerprint ----------------------------------------------------------------------------------------


def fingerprint(campaign: Campaign) -> str:
    """A hash of the source texts a translation follows: it changes when any of them changes."""
    texts = {name: getattr(campaign, name) or "" for name in TRANSLATED_FIELDS}
    return hashlib.sha256(json.dumps(texts, sort_keys=True).encode()).hexdigest()


def needs_update(translation: CampaignTranslation, campaign: Campaign | None = None) -> bool:
    """Whether the source changed since the translation was last saved or confirmed."""
    return translation.source_fingerprint != fingerprint(campaign or translation.campaign)


# -- reading ---------------------------------------------------------------------------------------------------------


def translation_for(campaign: Campaign, language: str | None) -> CampaignTranslation | None:
    if not language or language == campaign.language:
        return None
    for translation in campaign.translations:
        if translation.language == language:
            return translation
    return None


def available_languages(campaign: Campaign) -> list[str]:
    """The source's language first, then each translation's (in the site's languages only)."""
    site = current_app.config["LANGUAGES"]
    return [campaign.language] + [t.language for t in campaign.translations
                                  if t.language in site and t.language != campaign.language]


@dataclass
class UpdateVersion:
    """An update as a version shows it: translated if it can be, else in the source's language."""

    update: CampaignUpdate
    title: str
    body: str
    language: str

    @property
    def published_on(self):
        return self.update.published_on


class CampaignVersion:
    """The campaign as one version shows it: the translation's texts over the campaign, everything else shared."""

    def __init__(self, campaign: Campaign, translation: CampaignTranslation | None) -> None:
        self._campaign = campaign
        self._translation = translation
        self.language = translation.language if translation else campaign.language
        self.is_translation = translation is not None

    def __getattr__(self, name: str):
        if name in TRANSLATED_FIELDS and self._translation is not None:
            return getattr(self._translation, name)
        return getattr(self._campaign, name)

    @property
    def source(self) -> Campaign:
        return self._campaign

    @property
    def demand_list(self) -> list[str]:
        return [line.strip() for line in (self.demands or "").splitlines() if line.strip()]

    @property
    def url_values(self) -> dict:
        return {"slug": self._campaign.slug, "lang": self.language if self.is_translation else None}

    @property
    def published_updates(self) -> list[UpdateVersion]:
        updates = self._campaign.published_updates
        found = {}
        if self._translation is not None and updates:
            found = {t.update_id: t for t in db.session.execute(
                select(CampaignUpdateTranslation).where(
                    CampaignUpdateTranslation.update_id.in_([u.id for u in updates]),
                    CampaignUpdateTranslation.language == self.language)
            ).scalars()}
        result = []
        for update in updates:
            translated = found.get(update.id)
            if translated is not None:
                result.append(UpdateVersion(update, translated.title, translated.body, self.language))
            else:
                result.append(UpdateVersion(update, update.title, update.body, self._campaign.language))
        return result

    def __repr__(self) -> str:
        return f"<CampaignVersion {self._campaign.slug} {self.language}>"


def localised(campaign: Campaign | CampaignVersion, language: str | None) -> CampaignVersion:
    """The campaign's version in this language if it has one, else its source version."""
    if isinstance(campaign, CampaignVersion):
        campaign = campaign.source
    return CampaignVersion(campaign, translation_for(campaign, language))


def localise_all(campaigns: list[Campaign], language: str) -> list[CampaignVersion]:
    """Each campaign in the language's version where it has one, reading the versions in one query."""
    if not campaigns:
        return []
    found = {t.campaign_id: t for t in db.session.execute(
        select(CampaignTranslation).where(
            CampaignTranslation.campaign_id.in_([c.id for c in campaigns]),
            CampaignTranslation.language == language)
    ).scalars()}
    return [CampaignVersion(c, found.get(c.id) if c.language != language else None) for c in campaigns]


def version_url(campaign: Campaign | CampaignVersion, language: str | None = None, endpoint: str = "campaigns.show",
                external: bool = False, **values) -> str:
    """The address of a version's page: `/campaigns/<slug>` for the source, `/<lang>/campaigns/<slug>` otherwise."""
    if isinstance(campaign, CampaignVersion):
        language = language or campaign.language
        campaign = campaign.source
    lang = language if language and language != campaign.language else None
    if external:
        from petition_app.templating import public_url

        return public_url(endpoint, slug=campaign.slug, lang=lang, **values)
    return url_for(endpoint, slug=campaign.slug, lang=lang, **values)


def prefer_language(campaigns: list[Campaign], language: str) -> list[Campaign]:
    """The same campaigns, those readable in the language first (a stable sort: the order is kept otherwise)."""
    if not campaigns:
        return campaigns
    translated = set(db.session.execute(
        select(CampaignTranslation.campaign_id).where(
            CampaignTranslation.campaign_id.in_([c.id for c in campaigns]),
            CampaignTranslation.language == language)
    ).scalars())
    return sorted(campaigns, key=lambda c: not (c.language == language or c.id in translated))


# -- the page --------------------------------------------------------------------------------------------------------


def requested_language() -> str | None:
    """The version the address asks for (`/<lang>/campaigns/...`), None on a source address."""
    return g.get("version_language") if has_request_context() else None


def page_context(campaign: Campaign) -> dict:
    """What a campaign page needs to show one version: the version, its siblings, its addresses, a notice."""
    requested = requested_language()
    ui = str(get_locale())
    version = localised(campaign, requested)
    codes = available_languages(campaign)
    notice = None
    if requested and not version.is_translation and requested != campaign.language:
        notice = ("missing", requested)
    elif not requested and ui != campaign.language:
        notice = ("available", ui) if ui in codes else ("missing", ui)
    versions = [{"code": code, "name": language_name(code), "current": code == version.language,
                 "url": version_url(campaign, code),
                 "public_url": version_url(campaign, code, external=True)} for code in codes]
    context = {
        "campaign": version,
        "versions": versions,
        "version_notice": notice,
        "canonical_url": version_url(version, external=True),
    }
    if requested:  # the header's language links lead to the campaign's own address, not back to this version
        context["current_path"] = version_url(campaign)
    return context


def source_redirect_target(campaign: Campaign) -> str | None:
    """Where `/<lang>/...` of the campaign's own language belongs: its source address (a 301)."""
    requested = requested_language()
    if requested and requested == campaign.language:
        return version_url(campaign, None)
    return None


# -- editing ---------------------------------------------------------------------------------------------------------


def translatable_languages(campaign: Campaign) -> list[str]:
    """The site's languages other than the campaign's own."""
    return [code for code in current_app.config["LANGUAGES"] if code != campaign.language]


def save_translation(campaign: Campaign, language: str, texts: dict[str, str],
                     update_texts: dict[int, tuple[str, str]] | None = None,
                     is_demo: bool = False) -> CampaignTranslation:
    """Create or replace the campaign's version in the language, confirmed against the current source.

    `update_texts` maps an update's id to its translated (title, body); an empty pair removes that translation.
    Adds and flushes; the caller commits.
    """
    if language not in translatable_languages(campaign):
        raise TranslationError(f"not a language for a version of this campaign: {language!r}")
    if not (texts.get("title") or "").strip():
        raise TranslationError("a version needs a title")
    translation = translation_for(campaign, language)
    if translation is None:
        translation = CampaignTranslation(campaign=campaign, language=language, is_demo=is_demo)
        db.session.add(translation)
    for name in TRANSLATED_FIELDS:
        setattr(translation, name, (texts.get(name) or "").strip() if name == "title" else texts.get(name) or "")
    translation.source_fingerprint = fingerprint(campaign)
    if update_texts:
        _save_update_texts(campaign, language, update_texts)
    db.session.flush()
    return translation


def _save_update_texts(campaign: Campaign, language: str, update_texts: dict[int, tuple[str, str]]) -> None:
    updates = {u.id: u for u in campaign.updates}
    existing = {t.update_id: t for t in db.session.execute(
        select(CampaignUpdateTranslation).where(
            CampaignUpdateTranslation.update_id.in_(list(updates) or [0]),
            CampaignUpdateTranslation.language == language)
    ).scalars()}
    for update_id, (title, body) in update_texts.items():
        if update_id not in updates:
            raise TranslationError(f"not an update of this campaign: {update_id}")
        found = existing.get(update_id)
        if not (title or "").strip() and not (body or "").strip():
            if found is not None:
                db.session.delete(found)
            continue
        if found is None:
            found = CampaignUpdateTranslation(update_id=update_id, language=language)
            db.session.add(found)
        found.title, found.body = (title or "").strip(), body or ""


def update_texts_for(campaign: Campaign, language: str) -> dict[int, CampaignUpdateTranslation]:
    ids = [u.id for u in campaign.updates]
    if not ids:
        return {}
    return {t.update_id: t for t in db.session.execute(
        select(CampaignUpdateTranslation).where(
            CampaignUpdateTranslation.update_id.in_(ids), CampaignUpdateTranslation.language == language)
    ).scalars()}


def mark_up_to_date(translation: CampaignTranslation) -> None:
    """An editor confirms the version still says what the source says. The caller commits."""
    translation.source_fingerprint = fingerprint(translation.campaign)


def delete_translation(translation: CampaignTranslation) -> None:
    """Remove a version and its updates' translations. The caller commits."""
    ids = [u.id for u in translation.campaign.updates]
    if ids:
        for found in db.session.execute(select(CampaignUpdateTranslation).where(
                CampaignUpdateTranslation.update_id.in_(ids),
                CampaignUpdateTranslation.language == translation.language)).scalars():
            db.session.delete(found)
    db.session.delete(translation)


def _audit(action: str, campaign: Campaign, language: str) -> None:
    audit.record(action, campaign.slug, campaign.organisation_id, f"{language} ({language_name(language, 'en')})")


def write_version(campaign: Campaign, language: str, texts: dict[str, str],
                  update_texts: dict[int, tuple[str, str]] | None = None, *, matches_source: bool = True
                  ) -> CampaignTranslation:
    """Add or edit the campaign's version in the language (see save_translation), audited, and commit.

    A version that needed an update keeps needing it unless the editor says it matches the source (`matches_source`).
    """
    existing = translation_for(campaign, language)
    keep = existing.source_fingerprint if (existing is not None and not matches_source
                                           and needs_update(existing, campaign)) else None
    saved = save_translation(campaign, language, texts, update_texts)
    if keep is not None:  # still to be checked against the changed source
        saved.source_fingerprint = keep
    _audit("translation added" if existing is None else "translation edited", campaign, language)
    db.session.commit()
    return saved


def confirm_version(translation: CampaignTranslation) -> None:
    """Mark the version as saying what the current source says, audited, and commit."""
    mark_up_to_date(translation)
    _audit("translation marked up to date", translation.campaign, translation.language)
    db.session.commit()


def remove_version(translation: CampaignTranslation) -> None:
    """Delete the version and its updates' translations, audited, and commit."""
    campaign, language = translation.campaign, translation.language
    delete_translation(translation)
    _audit("translation deleted", campaign, language)
    db.session.commit()


# -- wiring ----------------------------------------------------------------------------------------------------------


def _pop_version_language(endpoint: str | None, values: dict | None) -> None:
    if values and "lang" in values:
        g.version_language = values.pop("lang")
        g.version_slug = values.get("slug")


def _keep_version_language(endpoint: str, values: dict) -> None:
    """Links from a version's page to the same campaign's versioned pages stay in that version."""
    if endpoint in VERSIONED_ENDPOINTS and "lang" not in values and has_request_context():
        language = g.get("version_language")
        # the same campaign, or the same page under a campaign's new address (queries.redirect_to_current_slug)
        if language and (values.get("slug") == g.get("version_slug") or endpoint == request.endpoint):
            values["lang"] = language


def _template_version_url(campaign, language: str | None = None, external: bool = False) -> str:
    return version_url(campaign, language, external=external)


def init_app(app: Flask) -> None:
    if "campaign_translations" in app.extensions:
        return
    app.extensions["campaign_translations"] = True
    app.url_map.converters.setdefault("lang", LanguageConverter)
    app.url_value_preprocessor(_pop_version_language)
    app.url_defaults(_keep_version_language)
    app.jinja_env.globals["version_url"] = _template_version_url
    app.jinja_env.globals["language_name"] = language_name
    app.jinja_env.filters["og_locale"] = og_locale


def register(blueprint) -> None:
    """Call before the blueprint's routes are declared: their `<lang:...>` converter must exist first."""
    blueprint.record_once(lambda state: init_app(state.app))

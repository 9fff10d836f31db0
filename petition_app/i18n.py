"""Language choice: a campaign version's address, else the visitor's explicit choice (a cookie), else the language
a signer signed in (on the pages their mailed links open), else the browser's Accept-Language."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import flask_babel
import pycountry
from babel import Locale, UnknownLocaleError
from flask import current_app, g, request

LANGUAGE_COOKIE = "lang"
SOURCE_LANGUAGE = "en"  # the language of the messages in the code: it needs no catalogue
CATALOGUES = Path(__file__).resolve().parent / "translations"


def shipped_languages() -> list[str]:
    """The source language, then every language with a message catalogue in the package."""
    found = sorted(po.parents[1].name for po in CATALOGUES.glob("*/LC_MESSAGES/messages.po"))
    return [SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE)]


def configured_languages(value: str | None) -> list[str]:
    """The UI languages from a comma-separated setting (LANGUAGES=en,ru,uk), in that order; unset: all shipped.

    A language without a catalogue is a configuration error, reported at start-up in plain words.
    """
    shipped = shipped_languages()
    if not value or not value.strip():
        return shipped
    codes = list(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    unknown = [code for code in codes if code not in shipped]
    if unknown or not codes:
        raise ValueError(
            f"LANGUAGES={value!r}: no message catalogue for {', '.join(unknown) or 'any language'}; "
            f"available: {','.join(shipped)} (a language is added by adding petition_app/translations/<code>/)"
        )
    return codes


@lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """A language's name in itself, from the Unicode CLDR via Babel ("Русский", "Українська")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].title() + name[1:]  # title case: Georgian stays Mkhedruli


class _LanguageNames(Mapping):
    """Every language's own name, looked up on demand: LANGUAGE_NAMES.get("uk") == "Українська"."""

    def __getitem__(self, code: str) -> str:
        if not isinstance(code, str) or not code:
            raise KeyError(code)
        return language_name(code)

    def __iter__(self) -> Iterator[str]:
        return iter(current_app.config["LANGUAGES"])

    def __len__(self) -> int:
        return len(current_app.config["LANGUAGES"])


LANGUAGE_NAMES: Mapping[str, str] = _LanguageNames()


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    version = g.get("version_language")  # a campaign version's address (/<lang>/campaigns/...) is in its language
    if version in languages:
        return version
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    signer = g.get("signer_language")
    if signer in languages:
        return signer
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def prefer_signer_language(language: str | None) -> None:
    """Show this request's page in the language the signer signed in (their mail was in it too), unless the visitor
    chose another one; a page opened from a mailed link thus reads like the mail, whatever the browser's setting."""
    g.signer_language = language
    flask_babel.refresh()  # the locale may have been read already in this request


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@lru_cache(maxsize=8)
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """ISO 3166-1 alpha-2 codes with their names in the locale, sorted by name."""
    names = Locale.parse(locale).territories
    fallback = {c.alpha_2: c.name for c in pycountry.countries}
    pairs = [(code, names.get(code) or fallback[code]) for code in country_codes()]
    return tuple(sorted(pairs, key=lambda pair: pair[1].casefold()))


def country_name(code: str, locale: str) -> str:
    return dict(country_choices(locale)).get(code, code)

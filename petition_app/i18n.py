"""Language choice: a campaign version's address, else the visitor's explicit choice (a cookie), else the browser's
Accept-Language."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale
from flask import current_app, g, request

LANGUAGE_COOKIE = "lang"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    version = g.get("version_language")  # a campaign version's address (/<lang>/campaigns/...) is in its language
    if version in languages:
        return version
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


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

"""Field checks shared by every public form."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

_NAME_PUNCTUATION = set(" '’ʼ`.-‐‑")


def clean_text(value: str | None) -> str | None:
    """Normalise to NFC and trim; used as a WTForms filter."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).strip()


# Zero-width (non-)joiners are format characters that Persian, Indic scripts and emoji need.
_ALLOWED_FORMAT = {"\u200c", "\u200d"}


def has_control_characters(value: str, allow_newlines: bool = False) -> bool:
    for char in value:
        if (allow_newlines and char in "\r\n\t") or char in _ALLOWED_FORMAT:
            continue
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            return True
    return False


class NoControlCharacters:
    def __init__(self, allow_newlines: bool = False):
        self.allow_newlines = allow_newlines

    def __call__(self, form, field) -> None:
        if field.data and has_control_characters(field.data, self.allow_newlines):
            raise ValidationError(_l("This contains invisible or control characters. Please retype it."))


class PersonName:
    """Letters of any script, with spaces, apostrophes, hyphens and full stops between them."""

    def __call__(self, form, field) -> None:
        value = field.data or ""
        if has_control_characters(value):
            raise ValidationError(_l("This contains invisible or control characters. Please retype it."))
        ok = all(unicodedata.category(c)[0] in "LM" or c in _NAME_PUNCTUATION or c in _ALLOWED_FORMAT for c in value)
        if not ok or not any(unicodedata.category(c)[0] == "L" for c in value):
            raise ValidationError(_l("Please use letters only (spaces, apostrophes and hyphens are fine)."))


_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,24}$")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[^0-9]", "", value)
    return ("+" if value.strip().startswith("+") else "") + digits


class Phone:
    def __call__(self, form, field) -> None:
        value = field.data or ""
        if not value:
            return
        digits = re.sub(r"[^0-9]", "", value)
        if not _PHONE.match(value) or not 6 <= len(digits) <= 15:
            raise ValidationError(_l("Enter a phone number with its country code, for example +44 7700 900123."))

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


# "Letters" and marks that draw nothing: Hangul fillers, Khmer inherent vowels, the braille blank, Mongolian and
# other invisible separators. A name made of them would be an empty line in every list.
INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u17b4\u17b5\u2800\u180e\u034f\u2061\u2062\u2063\u2064")
# Combining marks one base character may carry: Vietnamese, Indic and Thai names need up to three.
MAX_MARKS = 4


def has_invisible_characters(value: str) -> bool:
    return any(c in INVISIBLE for c in value)


def has_visible_letter(value: str, digits: bool = False) -> bool:
    kinds = "LN" if digits else "L"
    return any(unicodedata.category(c)[0] in kinds and c not in INVISIBLE for c in value)


def most_marks_on_one_character(value: str) -> int:
    """The longest run of combining marks (after NFC), i.e. how many marks one character carries at most."""
    longest = run = 0
    for char in unicodedata.normalize("NFC", value):
        run = run + 1 if unicodedata.category(char)[0] == "M" else 0
        longest = max(longest, run)
    return longest


def _check_visible(value: str, digits: bool, controls: bool = True) -> None:
    if (controls and has_control_characters(value)) or has_invisible_characters(value):
        raise ValidationError(_l("This contains invisible or control characters. Please retype it."))
    if most_marks_on_one_character(value) > MAX_MARKS:
        raise ValidationError(_l("Some letters carry too many accents or marks. Please retype it."))
    if value and not has_visible_letter(value, digits):
        raise ValidationError(_l("Please use letters only (spaces, apostrophes and hyphens are fine).") if not digits
                              else _l("Please write a name with letters."))


class VisibleName:
    """A free-form name (a group's, say): something visible to read, no invisible filler, no piles of marks."""

    def __call__(self, form, field) -> None:
        value = field.data or ""
        if not has_control_characters(value):  # those are NoControlCharacters' to report
            _check_visible(value, digits=True, controls=False)


class PersonName:
    """Letters of any script, with spaces, apostrophes, hyphens and full stops between them."""

    def __call__(self, form, field) -> None:
        value = field.data or ""
        _check_visible(value, digits=False)
        ok = all(unicodedata.category(c)[0] in "LM" or c in _NAME_PUNCTUATION or c in _ALLOWED_FORMAT for c in value)
        if not ok or not has_visible_letter(value):
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

"""Names must show something: invisible "letters" and piles of combining marks are refused on both public forms."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Signature
from petition_app.validators import most_marks_on_one_character
from tests.conftest import sign_data
from tests.test_starter import counts, host, propose  # noqa: F401  (host is a fixture)

INVISIBLE_NAMES = {
    "hangul filler": "\u3164",
    "two hangul fillers": "\u3164\u3164",
    "hangul choseong and jungseong fillers": "\u115f\u1160",
    "halfwidth hangul filler": "\uffa0",
    "braille blank": "\u2800\u2800",
    "khmer inherent vowel": "\u17b4",
    "zero-width space": "\u200b",
    "zero-width non-joiner alone": "\u200c",
    "name padded with a filler": "Anna\u3164",
    "combining grapheme joiner": "A\u034f",
}
ZALGO = "Z" + "\u0301\u0316\u0334\u035c\u0360" * 20 + "algo"
PILED = {"zalgo": ZALGO, "five marks on one letter": "Ann" + "a\u0334\u0335\u0336\u0337\u0338"}
WELCOME = [
    "Nguye\u0302\u0303n",  # Vietnamese, decomposed: two marks on one letter
    "Nguyễn", "प्रियंका", "สมศักดิ์", "김민준", "Ανδρέας", "Ọlábísí", "A\u0300\u0301\u0302\u0303",
    "مهر\u200cنوش", "Анна-Мария",
]


def test_marks_are_counted_per_character_after_composition():
    assert most_marks_on_one_character("Anna") == 0
    assert most_marks_on_one_character("Nguye\u0302\u0303n") == 0  # NFC composes ễ
    assert most_marks_on_one_character("a\u0300\u0301\u0302\u0303\u0304b\u0301") == 4  # à composes
    assert most_marks_on_one_character(ZALGO) == 99  # Ź composes


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("name", list(INVISIBLE_NAMES.values()) + list(PILED.values()),
                         ids=list(INVISIBLE_NAMES) + list(PILED))
def test_sign_form_refuses_names_without_a_visible_letter_or_with_piled_marks(client, make_campaign, field, name):
    make_campaign(slug="names", count_confirmed_only=False)
    response = client.post("/campaigns/names/sign", data=sign_data(client, "names", **{field: name}))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert ("invisible or control characters" in page or "letters only" in page
            if name not in PILED.values() else "too many accents or marks" in page)
    assert 'aria-invalid="true"' in page
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one() == 0


@pytest.mark.parametrize("name", WELCOME)
def test_sign_form_welcomes_real_names_with_marks(client, make_campaign, name):
    make_campaign(slug="welcome", count_confirmed_only=False)
    response = client.post("/campaigns/welcome/sign", data=sign_data(client, "welcome", first_name=name))
    assert response.status_code == 303, html.unescape(response.get_data(as_text=True))[-3000:]
    db.session.expire_all()
    assert db.session.execute(sa.select(Signature.first_name)).scalar_one() == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize("name", [INVISIBLE_NAMES["hangul filler"], INVISIBLE_NAMES["braille blank"],
                                  INVISIBLE_NAMES["name padded with a filler"], ZALGO],
                         ids=["hangul filler", "braille blank", "padded", "zalgo"])
@pytest.mark.usefixtures("host")
def test_start_form_refuses_invisible_or_piled_public_names(app, name):
    before = counts()
    response = propose(app.test_client(), public_name=name)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "invisible or control characters" in page or "too many accents or marks" in page
    # The field says it once, and the error summary at the top of the form repeats it as a link to the field.
    field_error = re.search(r'<p class="field-error" id="public_name-error">(.*?)</p>', page, re.S)
    assert field_error, "no error under the public name field"
    assert field_error.group(1).count("invisible or control characters") <= 1
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary and re.search(r'<a href="#public_name">[^<]*(invisible or control|too many accents)', summary.group(0))
    assert page.count("invisible or control characters") == 2 * field_error.group(1).count(
        "invisible or control characters")
    assert counts() == before


@pytest.mark.usefixtures("host")
def test_start_form_welcomes_group_names_with_digits_and_marks(app):
    assert propose(app.test_client(), public_name="Прайд 2026 — Ngũgĩ & friends").status_code == 303

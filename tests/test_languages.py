"""UI languages are configuration: LANGUAGES from the environment, names from the CLDR, one catalogue per language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from petition_app.demo.loader import load_demo
from petition_app.i18n import configured_languages, language_name, shipped_languages
from tests.conftest import sign_data
from tests.mailbox import text_part

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "petition_app" / "translations"
SPHERE = "russia-oppose-lgbt-criminalization"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _read(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def test_every_shipped_catalogue_is_a_ui_language_by_default():
    assert shipped_languages() == ["en", "ru", "uk"]
    assert configured_languages(None) == configured_languages("  ") == ["en", "ru", "uk"]
    assert configured_languages("uk, en") == ["uk", "en"]


@pytest.mark.parametrize("value", ["en,xx", "en,de", ","])
def test_a_language_without_a_catalogue_stops_the_start_with_a_clear_message(value):
    with pytest.raises(ValueError, match="no message catalogue for") as error:
        configured_languages(value)
    assert "available: en,ru,uk" in str(error.value)


def test_language_names_come_from_the_cldr_in_the_language_itself():
    assert [language_name(code) for code in ("en", "ru", "uk", "be", "ka")] == [
        "English", "Русский", "Українська", "Беларуская", "ქართული"]


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_each_catalogue_translates_every_message_with_the_same_placeholders(language):
    template = _read(CATALOGUES / "messages.pot")
    catalogue = _read(CATALOGUES / language / "LC_MESSAGES" / "messages.po")
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalogue.get(message.id)
        strings = translated.string if translated else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if translated is None or not all(strings) or translated.fuzzy:
            problems.append(("untranslated", message.id))
            continue
        source = message.id if isinstance(message.id, str) else message.id[1]
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != sorted(PLACEHOLDER.findall(source)):
                problems.append(("placeholders", message.id, string))
    assert not problems, problems[:10]


def test_the_switcher_offers_the_configured_languages_by_their_own_names(make_app):
    client = make_app(LANGUAGES="uk,en").test_client()
    html = client.get("/privacy").get_data(as_text=True)
    switcher = html.split('class="languages"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'\slang="(\w+)"', switcher) == ["uk", "en"]
    assert "Українська" in switcher and "Русский" not in switcher
    assert client.get("/language/ru").status_code == 404
    assert client.get("/language/uk").status_code == 303


def test_the_default_language_is_the_first_configured_when_english_is_left_out(make_app):
    app = make_app(LANGUAGES="uk,ru")  # its database connections are closed after the test
    assert app.config["LANGUAGES"] == ["uk", "ru"] and app.config["BABEL_DEFAULT_LOCALE"] == "uk"
    html = app.test_client().get("/privacy", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="uk"' in html and "Політика конфіденційності" in html


def test_a_ukrainian_visitor_reads_and_signs_in_ukrainian(mail_app, smtp):
    with mail_app.app_context():
        load_demo()
    client = mail_app.test_client()
    html = client.get(f"/campaigns/{SPHERE}", headers={"Accept-Language": "uk-UA,uk;q=0.9"}).get_data(as_text=True)
    assert '<html lang="uk"' in html and "Підписати" in html
    assert '<option value="DE">Німеччина</option>' in html  # country names from the CLDR too
    client.get("/language/uk")
    response = client.post(f"/campaigns/{SPHERE}/sign", data=sign_data(client, SPHERE))
    assert response.status_code in (200, 303)
    result = mail_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    text = text_part(smtp.box.messages[0])
    assert "Будь ласка, підтвердьте підпис" in text and "Пожалуйста" not in text


@pytest.mark.parametrize("path", ["/privacy", "/terms", "/contact", "/faq"])
def test_site_pages_have_a_ukrainian_text(client, path):
    ukrainian = client.get(path, headers={"Accept-Language": "uk"}).get_data(as_text=True)
    russian = client.get(path, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    main = ukrainian.split("<main", 1)[1].split("</main>", 1)[0]
    # The shipped contact page holds example details, so /contact shows its short neutral text until they are set.
    assert len(main) > (200 if path == "/contact" else 1500) and re.search("[іїєґ]", main)
    assert main != russian.split("<main", 1)[1].split("</main>", 1)[0]

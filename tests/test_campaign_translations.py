"""A campaign in several languages: one signature list, one counter, one delivery list; a page and a mail per version."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import sqlalchemy as sa

from petition_app import campaign_versions as translations
from petition_app import mailer
from petition_app.extensions import db
from petition_app.models import (
    AuditEntry,
    Campaign,
    CampaignStatus,
    CampaignTranslation,
    CampaignUpdate,
    CampaignUpdateTranslation,
    Role,
    Signature,
)
from tests.conftest import VALID_SIGNATURE, csrf_token, log_in, make_org, make_user

RU_TEXTS = {
    "title": "Остановите преследование",
    "lead": "Вступление на русском.",
    "body": "Текст кампании **на русском**.",
    "targets": "Правительству",
    "petition_text": "Мы требуем:",
    "demands": "Первое требование\nВторое требование",
    "delivery_note": "Подписи будут переданы адресатам.",
}


def _campaign(slug: str, org=None, **fields) -> Campaign:
    """A campaign in the current app (the `make_campaign` fixture would push a second app without a mail server)."""
    fields.setdefault("status", CampaignStatus.OPEN)
    fields.setdefault("title", "Free the test campaign")
    fields.setdefault("lead", "A lead paragraph.")
    fields.setdefault("goal", 100)
    campaign = Campaign(slug=slug, organisation=org or make_org("test-org"), **fields)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def _form(client, path: str, **fields) -> dict:
    return {"csrf_token": csrf_token(client, path), **fields}


def _editor(org):
    make_user("editor@example.org", (org, Role.EDITOR))
    return "editor@example.org"


def _audit() -> list[tuple[str, str]]:
    return [(e.action, e.detail) for e in db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def _signatures(campaign) -> list[Signature]:
    db.session.expire_all()
    return list(db.session.execute(
        sa.select(Signature).where(Signature.campaign_id == campaign.id).order_by(Signature.id)).scalars())


def _sign(client, page: str, email: str, first_name: str = "Anna") -> None:
    data = {**VALID_SIGNATURE, "email": email, "first_name": first_name, "csrf_token": csrf_token(client, page)}
    response = client.post(f"{page}/sign", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert response.location == f"{page}/thanks"


def _count(client, path: str) -> int:
    html = client.get(path).get_data(as_text=True)
    return int(re.search(r'<p class="count"><strong>([\d\s ,]+)</strong>', html).group(1).replace(",", ""))


# -- end to end ------------------------------------------------------------------------------------------------------


def test_a_russian_version_made_in_the_admin_is_signed_counted_mailed_and_delivered_with_the_source(mail_app, smtp):
    org = make_org("org-one")
    campaign = _campaign("stop", org, title="Stop the persecution", count_confirmed_only=False)
    editor = log_in(mail_app, _editor(org))
    form_path = f"/admin/campaigns/{campaign.id}/translations/ru"

    page = editor.get(form_path).get_data(as_text=True)
    assert "Stop the persecution" in page  # the source, read-only, beside the fields
    assert 'name="title"' in page and 'lang="ru"' in page
    response = editor.post(form_path, data=_form(editor, form_path, **RU_TEXTS))
    assert response.status_code == 303
    saved = db.session.execute(sa.select(CampaignTranslation)).scalar_one()
    assert (saved.campaign_id, saved.language, saved.title) == (campaign.id, "ru", RU_TEXTS["title"])
    assert saved.demands == "Первое требование\nВторое требование"
    assert not translations.needs_update(saved)
    assert _audit()[-1] == ("translation added", "ru (Russian)")
    listing = editor.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert f'href="/admin/campaigns/{campaign.id}/translations/ru"' in listing and "Up to date" in listing

    visitor = mail_app.test_client()
    ru_page = visitor.get("/ru/campaigns/stop").get_data(as_text=True)
    assert '<html lang="ru">' in ru_page and "<h1>Остановите преследование</h1>" in ru_page
    assert "<li>Второе требование</li>" in ru_page and "<strong>на русском</strong>" in ru_page
    assert 'action="/ru/campaigns/stop/sign#sign"' in ru_page

    _sign(visitor, "/ru/campaigns/stop", "anna@example.org", "Анна")
    _sign(visitor, "/campaigns/stop", "anna@example.org", "Anna")  # the same person on the English version
    _sign(visitor, "/campaigns/stop", "ben@example.org", "Ben")
    rows = _signatures(campaign)
    assert [(s.email, s.language) for s in rows] == [("anna@example.org", "ru"), ("ben@example.org", "en")]

    # One counter (the live one: whole pages may show a count up to PAGE_CACHE_SECONDS old).
    assert _count(visitor, "/campaigns/stop/counter") == _count(visitor, "/ru/campaigns/stop/counter") == 2

    mailer.send_due()
    mails = [(e.rcpt_tos, m) for e, m in zip(smtp.box.envelopes, smtp.box.messages, strict=True)]
    # Anna's second signature (on the English page) was a duplicate: her mail again, in her signature's language.
    assert [to for to, _m in mails] == [["anna@example.org"], ["anna@example.org"], ["ben@example.org"]]
    for (_to, russian), name in zip(mails[:2], ("Анна", "Anna"), strict=True):
        assert russian["Subject"] == "Пожалуйста, подтвердите подпись: Остановите преследование"
        text = russian.get_body(("plain",)).get_content()
        assert f"Здравствуйте, {name}!" in text and "http://localhost/ru/campaigns/stop" in text.split()
    english = mails[2][1]
    assert english["Subject"] == "Please confirm your signature: Stop the persecution"
    assert "http://localhost/campaigns/stop" in english.get_body(("plain",)).get_content().split()

    owner_client = log_in(mail_app.test_client(), _owner(org))
    export = owner_client.get(f"/admin/campaigns/{campaign.id}/export/delivery.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(export)))
    assert sorted(rows[1:]) == [["Ben", "Ivanova", "DE"], ["Анна", "Ivanova", "DE"]]  # one list, both versions


def test_the_pages_a_mailed_link_opens_are_in_the_signers_language_whatever_the_browser_says(mail_app, smtp):
    """Anna signed the Russian version and got her mail in Russian; her browser asks for English (a shared or a
    borrowed device): the confirm and withdraw pages still read like her mail, unless she chooses a language."""
    campaign = _translated(count_confirmed_only=False)
    visitor = mail_app.test_client()
    _sign(visitor, "/ru/campaigns/stop", "anna@example.org", "Анна")
    mailer.send_due()
    text = smtp.box.messages[0].get_body(("plain",)).get_content()
    confirm, withdraw = (re.search(rf"http://localhost(/s/{kind}/\S+)", text).group(1) for kind in ("confirm", "withdraw"))

    english_browser = mail_app.test_client()
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    page = english_browser.get(confirm, headers=english).get_data(as_text=True)
    assert '<html lang="ru">' in page and "<h1>Подтвердите подпись</h1>" in page and RU_TEXTS["title"] in page
    token = csrf_token(english_browser, confirm)
    done = english_browser.post(confirm, data={"csrf_token": token}, headers=english).get_data(as_text=True)
    assert '<html lang="ru">' in done and "<h1>Ваша подпись подтверждена</h1>" in done
    page = english_browser.get(withdraw, headers=english).get_data(as_text=True)
    assert '<html lang="ru">' in page and "<h1>Удалить эту подпись?</h1>" in page

    english_browser.set_cookie("lang", "en")  # she chose English with the language switcher
    page = english_browser.get(withdraw, headers=english).get_data(as_text=True)
    assert '<html lang="en">' in page and "<h1>Remove this signature?</h1>" in page
    assert campaign.title in page
    # A visitor without a signature behind the link gets the browser's language, as on any page.
    invalid = mail_app.test_client().get("/s/confirm/not-a-token", headers=english).get_data(as_text=True)
    assert '<html lang="en">' in invalid


def _owner(org) -> str:
    make_user("owner@example.org", (org, Role.OWNER))
    return "owner@example.org"


# -- the public pages ------------------------------------------------------------------------------------------------


def _translated(slug: str = "stop", **fields) -> Campaign:
    campaign = _campaign(slug, title="Stop the persecution", **fields)
    translations.save_translation(campaign, "ru", RU_TEXTS)
    db.session.commit()
    return campaign


def test_every_version_names_the_others_with_hreflang_and_og_locale(app, client):
    _translated()
    english = client.get("/campaigns/stop").get_data(as_text=True)
    russian = client.get("/ru/campaigns/stop").get_data(as_text=True)
    for html in (english, russian):
        assert '<link rel="alternate" hreflang="en" href="http://localhost/campaigns/stop">' in html
        assert '<link rel="alternate" hreflang="ru" href="http://localhost/ru/campaigns/stop">' in html
        assert '<link rel="alternate" hreflang="x-default" href="http://localhost/campaigns/stop">' in html
    assert '<meta property="og:locale" content="en_US">' in english
    assert '<meta property="og:locale:alternate" content="ru_RU">' in english
    assert '<link rel="canonical" href="http://localhost/campaigns/stop">' in english
    assert '<html lang="en">' in english and "<h1>Stop the persecution</h1>" in english
    assert '<meta property="og:locale" content="ru_RU">' in russian
    assert '<meta property="og:locale:alternate" content="en_US">' in russian
    assert '<link rel="canonical" href="http://localhost/ru/campaigns/stop">' in russian
    assert '<meta property="og:url" content="http://localhost/ru/campaigns/stop">' in russian
    # The switcher: each page links the other version and marks its own.
    assert '<a lang="ru" hreflang="ru" href="/ru/campaigns/stop">Русский</a>' in english
    assert '<strong lang="en" aria-current="page">English</strong>' in english
    assert '<a lang="en" hreflang="en" href="/campaigns/stop">English</a>' in russian
    # The header's language links on a version lead to the campaign's own address.
    assert "/language/en?next=/campaigns/stop" in russian


def test_a_campaign_without_versions_has_no_alternates_or_switcher(app, client):
    _campaign("alone")
    html = client.get("/campaigns/alone").get_data(as_text=True)
    assert "hreflang=\"x-default\"" not in html and 'class="versions"' not in html
    assert "og:locale:alternate" not in html and "version-notice" not in html


def test_a_visitor_in_a_language_without_a_version_sees_the_source_and_says_so(app, client):
    _campaign("alone", title="Only in English")
    html = client.get("/campaigns/alone", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ru">' in html and "<h1>Only in English</h1>" in html
    notice = re.search(r'<p class="notice version-notice"[^>]*>(.*?)</p>', html).group(1)
    assert "Русский" in notice and "Английский" in notice  # the language asked for, the language shown
    # A version's address without that version shows the source, with the notice, canonical to the source.
    html = client.get("/ru/campaigns/alone").get_data(as_text=True)
    assert "<h1>Only in English</h1>" in html and "version-notice" in html
    assert '<link rel="canonical" href="http://localhost/campaigns/alone">' in html


def test_a_visitor_in_a_language_with_a_version_is_offered_it(app, client):
    _translated()
    html = client.get("/campaigns/stop", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "<h1>Stop the persecution</h1>" in html
    assert re.search(r'<p class="notice version-notice"[^>]*><a href="/ru/campaigns/stop" hreflang="ru">', html)


def test_version_addresses_of_the_source_language_or_of_unknown_languages(app, client):
    _translated()
    response = client.get("/en/campaigns/stop")
    assert response.status_code == 301 and response.location == "/campaigns/stop"
    assert client.get("/de/campaigns/stop").status_code == 404  # not one of the site's languages
    assert client.get("/ru/campaigns/nothing-here").status_code == 404


def test_a_versions_former_address_redirects_to_the_same_version_at_the_new_one(app, client):
    from petition_app.models import SlugRedirect

    campaign = _translated()
    db.session.add(SlugRedirect(old_slug="old-stop", campaign_id=campaign.id))
    db.session.commit()
    response = client.get("/ru/campaigns/old-stop/thanks")
    assert response.status_code == 301 and response.location == "/ru/campaigns/stop/thanks"
    assert client.get("/campaigns/old-stop").location == "/campaigns/stop"


def test_a_version_shows_its_translated_updates_and_the_source_ones_it_lacks(app, client):
    campaign = _translated()
    first = CampaignUpdate(campaign_id=campaign.id, published_on=date(2026, 1, 2), title="First news", body="Old.")
    second = CampaignUpdate(campaign_id=campaign.id, published_on=date(2026, 2, 3), title="Second news", body="New.")
    db.session.add_all([first, second])
    db.session.commit()
    translations.save_translation(campaign, "ru", RU_TEXTS, {first.id: ("Первая новость", "Старое."),
                                                             second.id: ("", "")})
    db.session.commit()
    html = client.get("/ru/campaigns/stop").get_data(as_text=True)
    assert "Первая новость" in html and "First news" not in html
    assert re.search(r'<section class="update" lang="en">\s*<h2>[^<]*: Second news</h2>', html)
    assert db.session.execute(sa.select(sa.func.count()).select_from(CampaignUpdateTranslation)).scalar_one() == 1


def test_more_ways_to_take_action_prefer_campaigns_in_the_visitors_language(app, client):
    _translated("page")
    _campaign("english-only", title="English only")
    _campaign("also-english", title="Also English")
    later = _campaign("has-russian", title="Has Russian")
    translations.save_translation(later, "ru", {"title": "Есть по-русски", "lead": "Кратко."})
    db.session.commit()

    russian = client.get("/ru/campaigns/page/actions").get_data(as_text=True)
    titles = re.findall(r'<a class="action-title" href="([^"]+)" lang="(\w+)">([^<]+)</a>', russian)
    assert titles[0] == ("/ru/campaigns/has-russian", "ru", "Есть по-русски")
    assert [t[0] for t in titles[1:]] == ["/campaigns/english-only", "/campaigns/also-english"]
    english = client.get("/campaigns/page/actions").get_data(as_text=True)
    titles = re.findall(r'<a class="action-title" href="([^"]+)" lang="(\w+)">([^<]+)</a>', english)
    assert [t[0] for t in titles] == ["/campaigns/english-only", "/campaigns/also-english", "/campaigns/has-russian"]


def test_each_version_is_cached_under_its_own_key_and_an_edit_drops_it(make_app):
    app = make_app(PAGE_CACHE_SECONDS=300)
    with app.app_context():
        campaign = _translated()
        client = app.test_client()
        english = client.get("/campaigns/stop")
        russian = client.get("/ru/campaigns/stop")
        assert english.headers["ETag"] != russian.headers["ETag"]
        assert "<h1>Остановите преследование</h1>" in client.get("/ru/campaigns/stop").get_data(as_text=True)
        keys = sorted(k for k in app.extensions["petition_cache"]._data if k.endswith("/campaigns/stop"))
        # page:<build>:<language>:<token bucket>:<path>: the version's language and its address are both in the key
        assert [k.split(":")[2] + " " + k.split(":")[-1] for k in keys] == ["en /campaigns/stop",
                                                                           "ru /ru/campaigns/stop"]
        translation = translations.translation_for(campaign, "ru")
        translation.title = "Новое название"
        db.session.commit()
        assert "<h1>Новое название</h1>" in client.get("/ru/campaigns/stop").get_data(as_text=True)
        assert "<h1>Stop the persecution</h1>" in client.get("/campaigns/stop").get_data(as_text=True)


# -- the admin -------------------------------------------------------------------------------------------------------


def test_a_changed_source_flags_the_version_until_an_editor_confirms_it(app):
    org = make_org("org-one")
    campaign = _translated(org=org)
    editor = log_in(app, _editor(org))
    versions = f"/admin/campaigns/{campaign.id}/translations"
    assert "Needs update" not in editor.get(versions).get_data(as_text=True)

    campaign.demands = "A new demand"
    db.session.commit()
    translation = translations.translation_for(campaign, "ru")
    assert translations.needs_update(translation)
    page = editor.get(versions).get_data(as_text=True)
    assert "Needs update" in page and "Mark as up to date" in page

    # Saving the version without ticking "matches the current source" keeps the flag.
    form_path = f"{versions}/ru"
    assert 'name="up_to_date"' in editor.get(form_path).get_data(as_text=True)
    editor.post(form_path, data=_form(editor, form_path, **{**RU_TEXTS, "lead": "Исправлено."}))
    db.session.expire_all()
    assert translation.lead == "Исправлено." and translations.needs_update(translation)

    response = editor.post(f"{form_path}/up-to-date", data=_form(editor, versions))
    assert response.status_code == 303
    db.session.expire_all()
    assert not translations.needs_update(translation)
    assert "Needs update" not in editor.get(versions).get_data(as_text=True)
    assert [a for a, _d in _audit() if "translation" in a] == ["translation edited", "translation marked up to date"]


def test_a_version_without_a_title_is_refused_and_nothing_is_written(app):
    org = make_org("org-one")
    campaign = _campaign("stop", org)
    editor = log_in(app, _editor(org))
    form_path = f"/admin/campaigns/{campaign.id}/translations/ru"
    response = editor.post(form_path, data=_form(editor, form_path, **{**RU_TEXTS, "title": "  "}))
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count()).select_from(CampaignTranslation)).scalar_one() == 0
    # The campaign's own language, and languages the site does not have, are no version addresses.
    assert editor.get(f"/admin/campaigns/{campaign.id}/translations/en").status_code == 404
    assert editor.get(f"/admin/campaigns/{campaign.id}/translations/de").status_code == 404


def test_other_organisations_cannot_see_or_edit_a_version(app):
    org = make_org("org-one")
    other = make_org("org-two")
    campaign = _translated(org=org)
    make_user("stranger@example.org", (other, Role.OWNER))
    stranger = log_in(app, "stranger@example.org")
    assert stranger.get(f"/admin/campaigns/{campaign.id}/translations/ru").status_code == 404
    token = csrf_token(stranger, "/admin/")
    assert stranger.post(f"/admin/campaigns/{campaign.id}/translations/ru/delete",
                         data={"csrf_token": token}).status_code == 404
    assert translations.translation_for(campaign, "ru") is not None


def test_deleting_a_version_keeps_the_signatures_and_its_address_shows_the_source(app, client):
    org = make_org("org-one")
    campaign = _translated(org=org)
    _sign(client, "/ru/campaigns/stop", "anna@example.org")
    editor = log_in(app, _editor(org))
    path = f"/admin/campaigns/{campaign.id}/translations/ru/delete"
    assert "Остановите преследование" in editor.get(path).get_data(as_text=True)
    assert editor.post(path, data=_form(editor, path)).status_code == 303
    assert db.session.execute(sa.select(sa.func.count()).select_from(CampaignTranslation)).scalar_one() == 0
    assert len(_signatures(campaign)) == 1
    assert "<h1>Stop the persecution</h1>" in client.get("/ru/campaigns/stop").get_data(as_text=True)
    assert _audit()[-1] == ("translation deleted", "ru (Russian)")


# -- the demo --------------------------------------------------------------------------------------------------------


def test_the_first_two_demo_campaigns_load_with_a_russian_demo_version(app, client):
    from petition_app.demo.loader import load_demo

    load_demo()
    found = db.session.execute(sa.select(CampaignTranslation).order_by(CampaignTranslation.id)).scalars().all()
    assert [(t.campaign.slug, t.language, t.is_demo) for t in found] == [
        ("russia-oppose-lgbt-criminalization", "ru", True), ("russia-stop-lgbtqqia-criminalization", "ru", True)]
    assert not any(translations.needs_update(t) for t in found)
    html = client.get("/ru/campaigns/russia-oppose-lgbt-criminalization").get_data(as_text=True)
    assert "<h1>Россия: против криминализации ЛГБТ+ сообщества</h1>" in html
    assert "Сегодня Верховный суд России признал" in html  # the dated update, translated
    assert client.get("/ru/campaigns/russia-stop-lgbtqqia-criminalization").get_data(as_text=True).count(
        "Незамедлительно пересмотреть решение Верховного суда.") == 1
    load_demo()  # loading again adds nothing
    assert db.session.execute(sa.select(sa.func.count()).select_from(CampaignTranslation)).scalar_one() == 2


def test_a_versions_polled_counter_keeps_polling_the_version_while_cached(make_app):
    app = make_app(COUNTER_CACHE_SECONDS=60)
    with app.app_context():
        _translated()
        client = app.test_client()
        source = client.get("/campaigns/stop/counter", headers={"Accept-Language": "ru"}).get_data(as_text=True)
        version = client.get("/ru/campaigns/stop/counter").get_data(as_text=True)
        assert 'data-hx-get="/campaigns/stop/counter"' in source
        assert 'data-hx-get="/ru/campaigns/stop/counter"' in version
        keys = sorted(k for k in app.extensions["petition_cache"]._data if k.startswith("counter-html:"))
        assert keys == ["counter-html:ru:ru/stop", "counter-html:ru:stop"]
        from petition_app import counts

        counts.forget("stop")
        assert not [k for k in app.extensions["petition_cache"]._data if k.startswith("counter-html:")]


def test_the_home_page_lists_each_campaign_in_the_visitors_language_where_it_can(app, client):
    _translated()
    _campaign("alone", title="Only in English")
    russian = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<h2><a href="/ru/campaigns/stop">Остановите преследование</a></h2>' in russian
    assert re.search(r'<li class="campaign-card" lang="en">\s*<h2><a href="/campaigns/alone">Only in English</a>',
                     russian)
    english = client.get("/").get_data(as_text=True)
    assert '<h2><a href="/campaigns/stop">Stop the persecution</a></h2>' in english


def test_a_versions_embed_shows_its_texts_signs_in_its_language_and_stays_in_the_frame(app, client):
    from petition_app.models import EmbedOrigin

    campaign = _translated()
    db.session.add(EmbedOrigin(campaign_id=campaign.id, origin="https://partner.example"))
    db.session.commit()
    html = client.get("/ru/campaigns/stop/embed").get_data(as_text=True)
    assert RU_TEXTS["title"] in html and 'action="/ru/campaigns/stop/sign#sign"' in html
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    response = client.post("/ru/campaigns/stop/sign",
                           data={**VALID_SIGNATURE, "csrf_token": token.group(1), "embed": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/ru/campaigns/stop/embed/thanks")
    assert "frame-ancestors https://partner.example" in response.headers["Content-Security-Policy"]
    assert db.session.execute(sa.select(Signature.language)).scalar_one() == "ru"

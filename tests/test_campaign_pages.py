"""Public campaign pages: listing, campaign page, site pages, languages, meta tags."""

from __future__ import annotations

import re

import pytest

from petition_app.counts import next_goal
from petition_app.demo.loader import load_demo
from petition_app.extensions import db
from petition_app.models import CampaignStatus, CampaignUpdate

STARTER = "no-more-closed-doors-russian-transgender-people"
SPHERE = "russia-oppose-lgbt-criminalization"
AMNESTY = "russia-stop-lgbtqqia-criminalization"


@pytest.fixture
def demo(app):
    load_demo()


def test_index_lists_open_campaigns_with_counter_and_sign_button(client, demo, make_campaign):
    make_campaign(slug="a-draft", status=CampaignStatus.DRAFT, title="Secret draft")
    html = client.get("/").get_data(as_text=True)
    assert "Russia: Oppose LGBT+ Community Criminalization" in html
    assert "7,440" in html
    assert html.count('class="counter"') >= 6
    assert f'href="/campaigns/{SPHERE}#sign"' in html
    assert "Secret draft" not in html


def test_campaign_page_shows_everything_the_seed_has(client, demo):
    html = client.get(f"/campaigns/{SPHERE}").get_data(as_text=True)
    assert "Update – 30 November 2023" in html
    assert "Volker Türk" in html
    assert "This campaign is run by Sphere Foundation and has been joined by" in html
    assert "Goal: 60,000" in html
    assert html.count('class="counter"') == 2  # near the top and by the form
    assert 'id="counter-top"' in html and 'id="counter-form"' in html
    assert '<progress max="60000" value="0"' in html


def test_amnesty_page_has_quote_delivery_note_and_arrests_section(client, demo):
    html = client.get(f"/campaigns/{AMNESTY}").get_data(as_text=True)
    assert "Natalia Zviagina" in html
    assert "Recent arrests target book publishers" in html
    assert "Only your name and country will be included" in html
    assert "Governemnt of the Russia Federation" in html  # the organisation's own words, verbatim
    assert "Immediately review the Supreme Court decision." in html


def test_started_campaign_shows_starter_offline_count_and_share_consent(client, demo):
    html = client.get(f"/campaigns/{STARTER}").get_data(as_text=True)
    assert "Campaign started by" in html and "Coming Out LGBT group" in html
    assert "7,440" in html
    assert 'name="consent_share"' in html
    assert "hosted on" in html


def test_campaign_without_starter_does_not_ask_for_share_consent(client, demo):
    html = client.get(f"/campaigns/{SPHERE}").get_data(as_text=True)
    assert 'name="consent_share"' not in html


def test_more_ways_to_take_action_lists_related_first_and_never_itself(client, demo):
    html = client.get(f"/campaigns/{STARTER}/actions").get_data(as_text=True)
    titles = re.findall(r'class="action-title" href="/campaigns/([^"]+)"', html)
    assert titles[:3] == ["iran-save-sareh-and-elham", "fifa-tell-qatar-love-is-not-a-crime",
                          "abolish-the-religious-discrimination-bill"]
    assert STARTER not in titles


def test_updates_are_shown_newest_first(app, client, make_campaign):
    from datetime import date

    campaign = make_campaign(slug="dated")
    campaign.updates = [CampaignUpdate(published_on=date(2024, 1, 1), body="older news"),
                        CampaignUpdate(published_on=date(2025, 6, 1), body="newer news")]
    db.session.commit()
    html = client.get("/campaigns/dated").get_data(as_text=True)
    assert html.index("newer news") < html.index("older news")


def test_draft_and_unknown_campaigns_are_not_found(client, make_campaign):
    make_campaign(slug="hidden", status=CampaignStatus.DRAFT)
    assert client.get("/campaigns/hidden").status_code == 404
    assert client.get("/campaigns/does-not-exist").status_code == 404
    assert client.get("/campaigns/hidden/counter").status_code == 404


def test_closed_campaign_shows_closed_notice_instead_of_form(client, make_campaign):
    make_campaign(slug="done", status=CampaignStatus.CLOSED)
    html = client.get("/campaigns/done").get_data(as_text=True)
    assert "This campaign is closed" in html
    assert 'class="sign-form"' not in html


def test_open_graph_and_twitter_tags_use_the_public_url(client, demo):
    html = client.get(f"/campaigns/{SPHERE}").get_data(as_text=True)
    assert f'<meta property="og:url" content="http://localhost/campaigns/{SPHERE}">' in html
    assert '<meta property="og:title" content="Russia: Oppose LGBT+ Community Criminalization">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert f'<meta property="og:image" content="http://localhost/campaigns/{SPHERE}/share-card.jpg">' in html


@pytest.mark.parametrize("path", ["/privacy", "/terms", "/faq"])  # /contact: test_site_settings.py
def test_site_pages_have_real_texts_in_both_languages(client, path):
    english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    russian = client.get(path, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert len(english) > 3000 and len(russian) > 3000
    assert re.search("[а-яА-Я]{4}", russian) and not re.search("[а-яА-Я]{4}", english.split("<main")[1].split("</main>")[0])


def test_accept_language_chooses_russian_and_switcher_overrides_it(client, demo):
    html = client.get(f"/campaigns/{SPHERE}", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert 'lang="ru"' in html
    assert "Подписать" in html
    response = client.get(f"/language/en?next=/campaigns/{SPHERE}")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/campaigns/{SPHERE}")
    html = client.get(f"/campaigns/{SPHERE}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="en">' in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/language/ru", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_unknown_language_is_not_found(client):
    assert client.get("/language/xx").status_code == 404


def test_country_select_is_localised(client, demo):
    html = client.get(f"/campaigns/{SPHERE}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<option value="DE">Германия</option>' in html


def test_pages_load_nothing_from_other_hosts(client, demo):
    html = client.get(f"/campaigns/{STARTER}").get_data(as_text=True)
    for attr in re.findall(r'(?:src|href)="([^"]+)"', html.split("<body")[0]):
        assert attr.startswith(("/", "http://localhost/")), attr
    assert "<script>" not in html and "onclick" not in html


@pytest.mark.parametrize(
    ("count", "goal", "fixed", "shown"),
    [(0, 60000, False, 60000), (59999, 60000, False, 60000), (60000, 60000, False, 100000),
     (100001, 60000, False, 200000), (7441, 5000, False, 10000), (999, 1000, False, 1000),
     (1000, 1000, False, 2000), (2500, 1000, True, 1000), (3, 1, False, 5)],
)
def test_goal_steps_up_the_1_2_5_ladder_unless_fixed(count, goal, fixed, shown):
    assert next_goal(count, goal, fixed) == shown

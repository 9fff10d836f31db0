"""Signing: the happy paths (htmx and plain forms), duplicates, closed campaigns, bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Signature
from tests.conftest import sign_data

HX = {"HX-Request": "true"}


def signatures() -> list[Signature]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Signature)).scalars())


def count_of(campaign: Campaign) -> int:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id).signature_count


def test_plain_form_signs_and_redirects_to_thank_you_page(client, make_campaign):
    campaign = make_campaign(slug="c1")
    response = client.post("/campaigns/c1/sign", data=sign_data(client, "c1"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/campaigns/c1/thanks")
    page = client.get("/campaigns/c1/thanks").get_data(as_text=True)
    assert "If you have just signed, please check your mailbox" in page
    assert "<strong>0</strong>" in page  # counted once confirmed
    [signature] = signatures()
    assert (signature.first_name, signature.last_name, signature.country) == ("Anna", "Ivanova", "DE")
    assert count_of(campaign) == 0


def test_htmx_sign_swaps_thank_you_and_updates_counters_out_of_band(client, make_campaign):
    make_campaign(slug="c2", count_confirmed_only=False)
    response = client.post("/campaigns/c2/sign", data=sign_data(client, "c2"), headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="sign-region">')
    assert "Thank you for signing!" in html
    assert 'id="counter-form"' in html
    assert 'id="counter-top"' in html and 'data-hx-swap-oob="true"' in html
    assert html.count("<strong>1</strong>") == 2
    assert response.headers["HX-Trigger"] == "signed"
    assert "wa.me" in html and "t.me/share" in html and "mailto:" in html


def test_share_links_are_plain_urls_to_the_public_page(client, make_campaign):
    make_campaign(slug="share-me", title="Share & sign")
    html = client.get("/campaigns/share-me/thanks").get_data(as_text=True)
    assert "https://wa.me/?text=Share%20%26%20sign%20http%3A%2F%2Flocalhost%2Fcampaigns%2Fshare-me" in html
    assert "https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Flocalhost%2Fcampaigns%2Fshare-me" in html
    assert 'value="http://localhost/campaigns/share-me"' in html


def test_second_signature_in_other_letter_case_is_not_counted_and_looks_the_same(client, make_campaign):
    campaign = make_campaign(slug="dup", count_confirmed_only=False)
    first = client.post("/campaigns/dup/sign", data=sign_data(client, "dup"), headers=HX)
    second = client.post("/campaigns/dup/sign", data=sign_data(client, "dup", email=" ANNA@Example.ORG "), headers=HX)
    assert first.status_code == second.status_code == 200
    assert first.headers.get("HX-Trigger") == second.headers.get("HX-Trigger")
    assert "Thank you for signing!" in second.get_data(as_text=True)
    assert len(signatures()) == 1
    assert count_of(campaign) == 1
    plain = client.post("/campaigns/dup/sign", data=sign_data(client, "dup", email="Anna@example.org"))
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/campaigns/dup/thanks")


def test_same_person_may_sign_different_campaigns(client, make_campaign):
    make_campaign(slug="one")
    make_campaign(slug="two")
    client.post("/campaigns/one/sign", data=sign_data(client, "one"))
    client.post("/campaigns/two/sign", data=sign_data(client, "two"))
    assert len(signatures()) == 2


def test_consents_default_to_no_and_are_recorded_when_given(client, make_campaign):
    make_campaign(slug="consents", started_by="A local group")
    client.post("/campaigns/consents/sign", data=sign_data(client, "consents", email="a@example.org"))
    client.post("/campaigns/consents/sign", data=sign_data(
        client, "consents", email="b@example.org", phone="+44 7700 900123", consent_sms="y", consent_email="y",
        consent_share="y"))
    a, b = sorted(signatures(), key=lambda s: s.email)
    assert (a.consent_email, a.consent_sms, a.consent_share, a.phone) == (False, False, False, None)
    assert (b.consent_email, b.consent_sms, b.consent_share, b.phone) == (True, True, True, "+447700900123")


def test_share_consent_is_ignored_without_a_starter(client, make_campaign):
    make_campaign(slug="nostarter")
    client.post("/campaigns/nostarter/sign", data=sign_data(client, "nostarter", consent_share="y"))
    assert signatures()[0].consent_share is False


def test_signature_records_language_and_an_hour_precise_time(client, make_campaign):
    make_campaign(slug="lang")
    client.post("/campaigns/lang/sign", data=sign_data(client, "lang"), headers={"Accept-Language": "ru"})
    signature = signatures()[0]
    assert signature.language == "ru"
    assert (signature.created_at.minute, signature.created_at.second, signature.created_at.microsecond) == (0, 0, 0)


@pytest.mark.parametrize("status", [CampaignStatus.CLOSED, CampaignStatus.DELIVERED])
def test_late_post_to_closed_campaign_is_refused_with_a_message(client, make_campaign, status):
    campaign = make_campaign(slug="late")
    data = sign_data(client, "late")
    campaign.status = status
    db.session.commit()
    response = client.post("/campaigns/late/sign", data=data)
    assert response.status_code == 409
    assert "This campaign is closed" in response.get_data(as_text=True)
    htmx = client.post("/campaigns/late/sign", data=data, headers=HX)
    assert htmx.status_code == 409 and "This campaign is closed" in htmx.get_data(as_text=True)
    assert signatures() == []


def test_campaign_past_its_deadline_is_closed(client, make_campaign):
    from datetime import datetime, timedelta, timezone

    make_campaign(slug="deadline", deadline=datetime.now(timezone.utc) - timedelta(minutes=1))
    html = client.get("/campaigns/deadline").get_data(as_text=True)
    assert "This campaign is closed" in html
    assert 'hx-trigger="every' not in html  # closed: the counter stops polling


def test_honeypot_submission_is_thanked_and_not_stored(client, make_campaign):
    campaign = make_campaign(slug="bots")
    response = client.post("/campaigns/bots/sign", data=sign_data(client, "bots", website="http://spam.example"))
    assert response.status_code == 303
    assert signatures() == [] and count_of(campaign) == 0


def test_post_without_csrf_token_is_refused(client, make_campaign):
    make_campaign(slug="csrf")
    response = client.post("/campaigns/csrf/sign", data={**sign_data(client, "csrf"), "csrf_token": "forged"})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    assert signatures() == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "Please enter your first name."),
        ("last_name", "   ", "Please enter your last name."),
        ("email", "", "Please enter your email address."),
        ("email", "not-an-email", "does not look like an email address"),
        ("email", "a@b", "does not look like an email address"),
        ("email", "x" * 250 + "@example.org", "under 254 characters"),
        ("first_name", "A" * 101, "under 100 characters"),
        ("first_name", "<script>alert(1)</script>", "Please use letters only"),
        ("last_name", "Robert'); DROP TABLE signatures;--", "Please use letters only"),
        ("first_name", "Ann\x00a", "control characters"),
        ("first_name", "Ann\u202ea", "control characters"),
        ("email", "anna\r\nBcc: x@example.org", "control characters"),
        ("country", "", "Please choose your country."),
        ("country", "XX", "from the list"),
        ("country", "ZZZZ", "from the list"),
        ("phone", "call me maybe", "phone number"),
        ("phone", "+1 2", "phone number"),
        ("consent_sms", "y", "Add a mobile number"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_bad_input_re_renders_form_with_message_and_stores_nothing(client, make_campaign, field, value, message, htmx):
    campaign = make_campaign(slug="bad")
    data = sign_data(client, "bad", last_name="Keep-Me")
    data[field] = value
    response = client.post("/campaigns/bad/sign", data=data, headers=HX if htmx else {})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="field-error"' in html and 'aria-invalid="true"' in html
    if field != "last_name":
        assert 'value="Keep-Me"' in html  # what was typed is kept
    assert "<script>alert(1)</script>" not in html
    if htmx:
        assert html.lstrip().startswith('<div id="sign-region">')
    else:
        assert "<html" in html
    assert signatures() == [] and count_of(campaign) == 0


@pytest.mark.parametrize(
    ("first", "last"),
    [("Анна", "Иванова-Петрова"), ("Zoë", "O'Brien"), ("José María", "Núñez"), ("Ngũgĩ", "wa Thiong’o"),
     ("Łukasz", "Żółć"), ("李", "小龙"), ("محمد", "العلي"), ("Jean-Luc", "St. Clair"),
     ("مهر\u200cنوش", "رضایی")],
)
def test_names_in_any_script_are_welcome(client, make_campaign, first, last):
    make_campaign(slug="names")
    response = client.post("/campaigns/names/sign", data=sign_data(client, "names", first_name=first, last_name=last))
    assert response.status_code == 303
    signature = signatures()[0]
    assert (signature.first_name, signature.last_name) == (first, last)


def test_internationalised_email_address_is_accepted(client, make_campaign):
    make_campaign(slug="idn")
    response = client.post("/campaigns/idn/sign", data=sign_data(client, "idn", email="анна@пример.рф"))
    assert response.status_code == 303


def test_huge_body_is_refused_with_413(client, make_campaign):
    make_campaign(slug="huge")
    data = sign_data(client, "huge", first_name="A" * (2 * 1024 * 1024))
    response = client.post("/campaigns/huge/sign", data=data)
    assert response.status_code == 413
    assert signatures() == []


def test_sign_on_unknown_campaign_is_404(client, make_campaign):
    make_campaign(slug="exists")
    data = sign_data(client, "exists")
    assert client.post("/campaigns/nope/sign", data=data).status_code == 404


def test_get_on_sign_url_is_405_with_a_page(client, make_campaign):
    make_campaign(slug="getme")
    response = client.get("/campaigns/getme/sign")
    assert response.status_code == 405 and "<html" in response.get_data(as_text=True)

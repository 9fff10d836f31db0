"""What a supporter's pages say and where they open, on the HTML as served (the browser tests cover focus)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from petition_app import tokens
from petition_app.extensions import db
from petition_app.models import Signature, Starter
from petition_app.signing.service import SignatureInput, sign
from tests.conftest import csrf_token, make_org, sign_data

HX = {"HX-Request": "true"}


def _error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def test_plain_form_with_errors_opens_at_the_form_with_a_summary_linking_each_wrong_field(client, make_campaign):
    make_campaign(slug="c1")
    response = client.post("/campaigns/c1/sign", data=sign_data(client, "c1", first_name="", email="not-an-email",
                                                                  last_name="Ivanova", phone="+49 151 2345678"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The re-rendered page posts to an address ending in #sign, so the browser shows the form, not the top.
    assert re.search(r'<form class="sign-form" method="post" action="/campaigns/c1/sign#sign"', html)
    assert '<section id="sign"' in html
    summary = _error_summary(html)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert re.search(r"<h3 id=\"error-summary-heading\">Please correct the fields marked below.</h3>", summary)
    links = re.findall(r'<a href="#([a-z_]+)">([^<]+)</a>', summary)
    assert [target for target, _text in links] == ["first_name", "email"]
    assert "Please enter your first name." in links[0][1]
    # The summary comes first in the form, before any field.
    assert html.index('class="error-summary"') < html.index('id="first_name"')
    # What was typed is kept.
    assert re.search(r'id="last_name"[^>]*value="Ivanova"', html)
    assert re.search(r'id="email"[^>]*value="not-an-email"', html)
    assert re.search(r'id="phone"[^>]*value="\+49 151 2345678"', html)
    assert re.search(r"<option[^>]*selected[^>]*value=\"DE\"|<option[^>]*value=\"DE\"[^>]*selected", html)


def test_htmx_form_with_errors_answers_the_summary_marked_for_focus(client, make_campaign):
    make_campaign(slug="c1")
    response = client.post("/campaigns/c1/sign", data=sign_data(client, "c1", email="nope"), headers=HX)
    summary = _error_summary(response.get_data(as_text=True))
    assert "data-focus-after-swap" in summary
    assert '<a href="#email">' in summary


def test_privacy_promise_under_the_sign_button_is_said_once(client, make_campaign):
    make_campaign(slug="note", delivery_note="Signatures go to the city council in May. Only names and countries.")
    make_campaign(slug="plain")
    noted = client.get("/campaigns/note").get_data(as_text=True)
    plain = client.get("/campaigns/plain").get_data(as_text=True)
    for html in (noted, plain):
        assert html.count('class="privacy-note"') == 1
        assert html.count("never shown or delivered") == 1
        assert html.count("How we protect your data") == 1
    assert noted.count("Only your name and country will be delivered") == 0
    assert plain.count("Only your name and country will be delivered") == 1
    assert noted.count("Signatures go to the city council in May.") == 1


def test_thank_you_page_is_truthful_for_anyone_who_opens_it_and_has_a_heading(client, make_campaign):
    make_campaign(slug="c1", title="Free the test campaign")
    first = client.get("/campaigns/c1/thanks")
    second = client.get("/campaigns/c1/thanks")
    html = first.get_data(as_text=True)
    assert first.get_data() == second.get_data()  # the same bytes for everyone: it can be cached
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", html) == ["If you have just signed, please check your mailbox"]
    assert "Thank you for signing" not in html
    assert 'href="/campaigns/c1#sign"' in html  # a visitor who has not signed can do so
    assert "wa.me" in html


def test_confirmed_signer_is_offered_sharing_and_other_campaigns_not_the_thank_you_page(app, client, make_campaign):
    campaign = make_campaign(slug="c1", title="Free the test campaign")
    make_campaign(slug="other", title="Another open campaign")
    sign(campaign, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE"))
    signature = db.session.execute(sa.select(Signature)).scalar_one()
    raw = tokens.issue(tokens.CONFIRM, 7, signature_id=signature.id)
    db.session.commit()
    path = f"/s/confirm/{raw}"
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Your signature is confirmed</h1>" in html
    assert "/thanks" not in html  # that page asks to confirm, which is done
    assert "confirm your signature" not in html.lower().replace("your signature is confirmed", "")
    assert "Ask your friends to sign too" in html and "https://wa.me/?text=Free%20the%20test%20campaign" in html
    assert "More ways to take action" in html and 'href="/campaigns/other"' in html
    # Opening the link again later shows the same next steps.
    again = client.get(path).get_data(as_text=True)
    assert "<h1>Your signature is confirmed</h1>" in again and 'href="/campaigns/other"' in again


PROPOSAL = {"public_name": "Coming Out group", "email": "starter@example.org", "title": "Stop the ban",
            "lead": "A short summary.", "body": "Why it matters.", "targets": "The council", "demands": "Lift it",
            "goal": "2500", "language": "en", "agree_terms": "y"}


def test_start_sent_state_no_longer_asks_to_write_the_petition(app, client):
    make_org("host")
    data = {**PROPOSAL, "csrf_token": csrf_token(client, "/start")}
    form_page = client.get("/start").get_data(as_text=True)
    # The invitation to write sits inside the region that htmx replaces with "Check your mailbox".
    assert "Write your petition below" in form_page[form_page.index('<div id="start-region">'):]
    html = client.post("/start", data=data, headers=HX).get_data(as_text=True)
    assert "Check your mailbox" in html and "Write your petition below" not in html
    page = client.get("/start/sent").get_data(as_text=True)
    assert "Write your petition below" not in page
    assert db.session.execute(sa.select(sa.func.count()).select_from(Starter)).scalar_one() == 1


def test_start_with_errors_opens_at_the_form_with_a_summary(app, client):
    make_org("host")
    data = {**PROPOSAL, "email": "nope", "title": "", "csrf_token": csrf_token(client, "/start")}
    response = client.post("/start", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'action="/start#start-region"' in html
    links = re.findall(r'<a href="#([a-z_]+)">', _error_summary(html))
    assert links == ["email", "title"]
    assert re.search(r'id="lead"[^>]*>A short summary.</textarea>', html) or re.search(
        r'<textarea[^>]*id="lead"[^>]*>\s*A short summary.</textarea>', html)


def test_start_field_wrappers_do_not_inherit_the_forms_disabled_element(client):
    make_org("host")
    html = client.get("/start").get_data(as_text=True)
    form = re.search(r'<form class="sign-form start-form"[^>]*>', html).group(0)
    assert 'data-hx-disabled-elt="find button[type=submit]"' in form
    assert 'data-hx-disinherit="*"' in form

"""The campaign form as served (sections, error summary linking each field, Save in one sticky bar, folded
previews) and the admin-only preview of a campaign's saved state as its public page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Role
from tests.conftest import log_in, make_org, make_user
from tests.test_admin_campaigns import fields, post_form

SECTIONS = ["Content", "Petition", "Counting and goal", "Status and deadline", "Privacy and mail", "Organisers",
            "Address and language", "More ways to take action"]


@pytest.fixture
def org_a(app):
    return make_org("org-a", "Org A")


@pytest.fixture
def editor(app, org_a):
    make_user("editor@example.org", (org_a, Role.EDITOR))
    return log_in(app, "editor@example.org")


@pytest.fixture
def draft(make_campaign, org_a):
    return make_campaign(slug="secret-draft", org=org_a, status=CampaignStatus.DRAFT, title="A draft not yet out",
                         body="The **draft** body.")


def test_the_form_has_its_sections_and_one_sticky_save(editor, draft):
    html = editor.get(f"/admin/campaigns/{draft.id}/edit").get_data(as_text=True)
    legends = re.findall(r"<legend><h2>([^<]+)</h2></legend>", html)
    assert legends == SECTIONS
    for section in ("content", "petition", "counting", "deadline", "privacy", "organisers", "address", "actions"):
        assert f'href="#section-{section}"' in html and f'<fieldset id="section-{section}">' in html
    bar = re.search(r'<div class="form-actions">(.*?)</div>', html, re.S).group(1)
    assert ">Save</button>" in bar and 'name="preview"' in bar
    assert html.count(">Save</button>") == 1
    # the bar is the form's last child, so `position: sticky; bottom: 0` keeps it on screen
    assert re.search(r'<div class="form-actions">.*?</div>\s*</form>', html, re.S)
    assert f'href="/admin/campaigns/{draft.id}/preview"' in html


def test_markdown_previews_are_folded_until_the_preview_button_asks_for_them(editor, draft):
    html = editor.get(f"/admin/campaigns/{draft.id}/edit").get_data(as_text=True)
    assert len(re.findall(r'<details class="preview-box">', html)) == 3
    assert "<strong>draft</strong>" in html  # the saved text's preview, folded
    data = fields(make_org("org-a"), slug="secret-draft", body="Now *changed*.")
    response = post_form(editor, f"/admin/campaigns/{draft.id}/edit", {**data, "preview": "1"})
    html = response.get_data(as_text=True)
    assert len(re.findall(r'<details class="preview-box" open>', html)) == 3
    assert "<em>changed</em>" in html


def test_error_summary_comes_first_takes_the_focus_and_links_each_wrong_field(editor, draft, org_a):
    data = fields(org_a, title="", slug="Not a slug!", goal="0", deadline="next tuesday")
    response = post_form(editor, f"/admin/campaigns/{draft.id}/edit", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    tag = re.search(r'<div class="error-summary"[^>]*>', html).group(0)
    assert 'role="alert"' in tag and 'tabindex="-1"' in tag and " autofocus" in tag
    assert html.index('class="error-summary"') < html.index('id="section-content"')
    links = dict(re.findall(r'<a href="#([a-z_]+)">([^<]+)</a>', summary.group(1)))
    assert set(links) == {"title", "slug", "goal", "deadline"}
    assert links["title"].startswith("Title: ")
    assert links["deadline"].startswith("Deadline: Enter a date and time")
    for field_id in links:
        assert f'id="{field_id}"' in html
    db.session.expire_all()
    assert db.session.get(Campaign, draft.id).title == "A draft not yet out"


def test_errors_found_against_the_database_are_linked_too(editor, draft, org_a, make_campaign):
    make_campaign(slug="taken", org=org_a)
    response = post_form(editor, f"/admin/campaigns/{draft.id}/edit", fields(org_a, slug="taken"))
    assert response.status_code == 422
    assert '<a href="#slug">Address: This address is taken.' in response.get_data(as_text=True)


def test_the_public_sign_form_summary_is_unchanged(client, make_campaign):
    from tests.conftest import sign_data

    make_campaign(slug="open-one")
    response = client.post("/campaigns/open-one/sign", data=sign_data(client, "open-one", first_name=""),
                           headers={"Sec-Fetch-Site": "same-origin"})
    html = response.get_data(as_text=True)
    assert '<a href="#first_name">Please enter your first name.</a>' in html
    assert "autofocus" not in html


# -- preview --------------------------------------------------------------------------------------------------------


def test_members_preview_a_draft_as_its_public_page_with_signing_switched_off(app, editor, draft, client):
    response = editor.get(f"/admin/campaigns/{draft.id}/preview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview — not public" in html and 'class="preview-banner"' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert "A draft not yet out" in html and "<strong>draft</strong>" in html  # the public template, saved texts
    sign = re.search(r'<div class="preview-sign" inert>(.*?)</form>', html, re.S).group(1)
    assert '<button type="submit" class="button button-sign" disabled>' in sign
    assert "Signing is switched off in this preview." in html
    assert 'data-hx-trigger="every' not in html  # nothing polls the public counter of a draft
    # The public address of the draft still answers 404, however often the preview was seen.
    assert client.get("/campaigns/secret-draft").status_code == 404


def test_the_campaign_admin_page_links_the_preview(editor, draft):
    html = editor.get(f"/admin/campaigns/{draft.id}").get_data(as_text=True)
    assert f'href="/admin/campaigns/{draft.id}/preview">Preview the page</a>' in html


def test_anonymous_visitors_are_sent_to_the_login(app, draft):
    response = app.test_client().get(f"/admin/campaigns/{draft.id}/preview")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/login?next=")
    assert "A draft not yet out" not in response.get_data(as_text=True)


def test_members_of_other_organisations_get_404(app, draft):
    other = make_org("org-b", "Org B")
    make_user("stranger@example.org", (other, Role.OWNER))
    stranger = log_in(app, "stranger@example.org")
    response = stranger.get(f"/admin/campaigns/{draft.id}/preview")
    assert response.status_code == 404
    assert "A draft not yet out" not in response.get_data(as_text=True)


def test_the_preview_never_enters_the_public_page_cache(make_app, make_campaign):
    app = make_app(PAGE_CACHE_SECONDS=60)
    with app.app_context():
        org = make_org("org-c", "Org C")
        campaign = make_campaign(slug="cached-open", org=org, title="Saved title")
        make_user("viewer@example.org", (org, Role.VIEWER))
        viewer = log_in(app, "viewer@example.org")
        anonymous = app.test_client()
        assert anonymous.get("/campaigns/cached-open").headers["Cache-Control"].startswith("public")
        preview = viewer.get(f"/admin/campaigns/{campaign.id}/preview")
        assert preview.status_code == 200 and "Preview — not public" in preview.get_data(as_text=True)
        public = anonymous.get("/campaigns/cached-open").get_data(as_text=True)
        assert "Saved title" in public and "Preview — not public" not in public and "inert" not in public
        again = viewer.get(f"/admin/campaigns/{campaign.id}/preview")
        assert again.headers["Cache-Control"] == "no-store" and "ETag" not in again.headers
        db.session.expire_all()
        assert db.session.execute(sa.select(Campaign.status).where(Campaign.id == campaign.id)).scalar_one() \
            == CampaignStatus.OPEN

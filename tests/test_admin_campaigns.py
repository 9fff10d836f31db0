"""Admin: creating and editing campaigns, preview, status changes, dated updates, site pages."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import (
    AuditEntry,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Organisation,
    RelatedCampaign,
    Role,
    Signature,
    SitePage,
    SlugRedirect,
)
from tests.conftest import VALID_SIGNATURE, csrf_token, log_in, make_org, make_user

# -- helpers --------------------------------------------------------------------------------------------------------


def token_for(client, path: str) -> str:
    return csrf_token(client, path)


def fields(org: Organisation, **overrides) -> dict:
    """A complete, valid campaign form; booleans given as True/False become a ticked or missing checkbox."""
    data = {
        "title": "Stop the bill", "lead": "A short lead.", "body": "The **body** text.",
        "quote": "We will not be silent.", "quote_attribution": "Anna Petrova, lawyer",
        "petition_heading": "Our petition", "targets": "The Parliament", "petition_text": "We ask you to act.",
        "demands": "Drop the bill\nFree the detained", "petition_closing": "Thank you for reading.",
        "goal": "500", "goal_fixed": False, "offline_count": "0", "count_confirmed_only": False, "deadline": "",
        "delivery_note": "Delivered by hand.", "started_by": "", "language": "en", "organisation": str(org.id),
        "partners": [], "slug": "stop-the-bill", "related": "",
    }
    data.update(overrides)
    return {k: v for k, v in ((k, "y" if v is True else v) for k, v in data.items()) if v is not False}


def post_form(client, path: str, data: dict, **kwargs):
    return client.post(path, data={**data, "csrf_token": token_for(client, path)}, **kwargs)


def campaign_count() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Campaign)).scalar_one()


def fresh(campaign: Campaign) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id)


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


@pytest.fixture
def org_a(app):
    return make_org("org-a", "Org A")


@pytest.fixture
def org_b(app):
    return make_org("org-b", "Org B")


@pytest.fixture
def editor(app, org_a):
    make_user("editor@example.org", (org_a, Role.EDITOR))
    return log_in(app, "editor@example.org")


@pytest.fixture
def superuser(app):
    make_user("root@example.org", superuser=True)
    return log_in(app, "root@example.org")


# -- creating and editing -------------------------------------------------------------------------------------------


def test_editor_creates_a_campaign_that_starts_as_a_draft(app, editor, org_a, client):
    response = post_form(editor, "/admin/campaigns/new", fields(org_a))
    assert response.status_code == 303
    campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == "stop-the-bill")).scalar_one()
    assert response.headers["Location"] == f"/admin/campaigns/{campaign.id}"
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.organisation_id == org_a.id
    assert campaign.title == "Stop the bill" and campaign.demand_list == ["Drop the bill", "Free the detained"]
    assert "campaign created" in audit_actions()
    assert client.get("/campaigns/stop-the-bill").status_code == 404  # drafts are not public


def test_new_campaign_form_offers_only_organisations_the_user_edits_for(app, org_a, org_b):
    make_user("both@example.org", (org_a, Role.EDITOR), (org_b, Role.VIEWER))
    client = log_in(app, "both@example.org")
    html = client.get("/admin/campaigns/new").get_data(as_text=True)
    assert f'<option value="{org_a.id}"' in html or f'<option selected value="{org_a.id}"' in html
    assert f'value="{org_b.id}">Org B</option>' not in html
    response = post_form(client, "/admin/campaigns/new", fields(org_a, organisation=str(org_b.id)))
    assert response.status_code == 422
    assert campaign_count() == 0


def test_viewer_cannot_create_or_edit(app, org_a, make_campaign):
    campaign = make_campaign(slug="viewed", org=org_a)
    make_user("viewer@example.org", (org_a, Role.VIEWER))
    client = log_in(app, "viewer@example.org")
    assert client.get("/admin/campaigns/new").status_code == 404
    assert client.get(f"/admin/campaigns/{campaign.id}/edit").status_code == 404
    assert client.get(f"/admin/campaigns/{campaign.id}/status?to=closed").status_code == 404
    assert client.get(f"/admin/campaigns/{campaign.id}/updates").status_code == 404
    token = token_for(client, "/admin/")
    response = client.post(f"/admin/campaigns/{campaign.id}/edit",
                           data={**fields(org_a, slug="viewed", title="Hijacked"), "csrf_token": token})
    assert response.status_code == 404
    assert fresh(campaign).title == "Free the test campaign"


def test_editor_of_another_organisation_gets_404_everywhere(app, editor, org_b, make_campaign):
    campaign = make_campaign(slug="theirs", org=org_b)
    update = CampaignUpdate(campaign_id=campaign.id, published_on=date(2025, 1, 1), body="news")
    db.session.add(update)
    db.session.commit()
    base = f"/admin/campaigns/{campaign.id}"
    for path in (f"{base}/edit", f"{base}/status", f"{base}/status?to=closed", f"{base}/updates",
                 f"{base}/updates/{update.id}/edit", f"{base}/updates/{update.id}/delete"):
        assert editor.get(path).status_code == 404, path
    token = token_for(editor, "/admin/")
    for path, data in ((f"{base}/status", {"to": "closed"}), (f"{base}/updates/{update.id}/delete", {}),
                       (f"{base}/updates", {"published_on": "2025-02-02", "body": "x"}),
                       (f"{base}/edit", fields(org_b, slug="theirs", title="Mine now"))):
        assert editor.post(path, data={**data, "csrf_token": token}).status_code == 404, path
    campaign = fresh(campaign)
    assert campaign.status == CampaignStatus.OPEN and campaign.title == "Free the test campaign"
    assert db.session.get(CampaignUpdate, update.id) is not None


def test_edit_form_is_prefilled_and_wired_for_live_preview(app, editor, org_a, make_campaign):
    campaign = make_campaign(slug="prefilled", org=org_a, body="Hello *world*", demands="One\nTwo",
                             deadline=datetime(2030, 5, 1, 12, 30, tzinfo=timezone.utc))
    html = editor.get(f"/admin/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'value="prefilled"' in html and "Hello *world*" in html and "One\nTwo" in html
    assert 'value="2030-05-01T12:30"' in html
    assert "<em>world</em>" in html  # the preview of the saved text
    textarea = re.search(r"<textarea[^>]*name=\"body\"[^>]*>", html).group(0)
    assert 'data-hx-post="/admin/preview"' in textarea and 'data-hx-trigger="keyup changed delay:500ms"' in textarea
    assert 'data-hx-target="#body-preview"' in textarea
    assert 'class="preview" id="body-preview"' in html
    assert 'class="preview" id="petition_text-preview"' in html and 'id="petition_closing-preview"' in html


def test_editor_edits_every_field_and_the_public_page_shows_it(app, editor, org_a, org_b, make_campaign, client):
    campaign = make_campaign(slug="old-text", org=org_a)
    other = make_campaign(slug="other-action", org=org_b, title="The other action")
    third = make_campaign(slug="third-action", org=org_b, title="A third action")
    data = fields(
        org_a, title="New title", lead="New lead.", body="New **body**.", quote="A new quote.",
        quote_attribution="Someone Wise", petition_heading="To the minister", targets="The Minister of Justice",
        petition_text="We *urge* you.", demands="First demand\nSecond demand", petition_closing="Signed, us.",
        goal="2000", goal_fixed=True, offline_count="35", count_confirmed_only=False,
        deadline="2031-01-02T03:04", delivery_note="We hand it over in June.", started_by="A local group",
        language="ru", partners=[str(org_b.id)], slug="old-text", discreet_mail=True,
        related="third-action\nhttp://localhost/campaigns/other-action#sign",
    )
    response = post_form(editor, f"/admin/campaigns/{campaign.id}/edit", data)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/admin/campaigns/{campaign.id}"

    c = fresh(campaign)
    assert (c.title, c.lead, c.body, c.quote, c.quote_attribution) == (
        "New title", "New lead.", "New **body**.", "A new quote.", "Someone Wise")
    assert (c.petition_heading, c.targets, c.petition_text, c.petition_closing) == (
        "To the minister", "The Minister of Justice", "We *urge* you.", "Signed, us.")
    assert c.demand_list == ["First demand", "Second demand"]
    assert (c.goal, c.goal_fixed, c.offline_count, c.count_confirmed_only) == (2000, True, 35, False)
    deadline = c.deadline
    assert deadline == datetime(2031, 1, 2, 3, 4, tzinfo=timezone.utc)
    assert (c.delivery_note, c.started_by, c.language) == ("We hand it over in June.", "A local group", "ru")
    assert c.discreet_mail is True
    assert [p.slug for p in c.partners] == ["org-b"]
    assert [(link.related_id, link.position) for link in c.related_links] == [(third.id, 0), (other.id, 1)]
    assert "campaign edited" in audit_actions()

    html = client.get("/campaigns/old-text").get_data(as_text=True)
    for text in ("New title", "New lead.", "<strong>body</strong>", "A new quote.", "Someone Wise",
                 "To the minister", "The Minister of Justice", "<em>urge</em>", "<li>First demand</li>",
                 "Signed, us.", "A local group", "Org B", "Goal: 2,000", "We hand it over in June.", 'lang="ru"'):
        assert text in html, text
    actions = client.get("/campaigns/old-text/actions").get_data(as_text=True)
    assert re.findall(r'class="action-title" href="/campaigns/([^"]+)"', actions)[:2] == [
        "third-action", "other-action"]


def test_unticking_and_clearing_optional_fields_saves_them_empty(app, editor, org_a, org_b, make_campaign):
    campaign = make_campaign(slug="full", org=org_a, goal_fixed=True, quote="Q", started_by="S",
                             deadline=datetime(2030, 1, 1, tzinfo=timezone.utc))
    campaign.partners = [org_b]
    db.session.commit()
    response = post_form(editor, f"/admin/campaigns/{campaign.id}/edit",
                         fields(org_a, slug="full", quote="", started_by="", deadline="", offline_count=""))
    assert response.status_code == 303
    c = fresh(campaign)
    assert (c.goal_fixed, c.quote, c.started_by, c.deadline, c.offline_count, c.partners) == (
        False, "", "", None, 0, [])


def test_saving_refreshes_the_cached_public_counter(make_app, org_a):
    app = make_app(COUNTER_CACHE_SECONDS=600)
    with app.app_context():
        org = make_org("org-a")
        campaign = Campaign(slug="cached", title="Cached", goal=100, status=CampaignStatus.OPEN, organisation=org)
        db.session.add(campaign)
        db.session.commit()
        make_user("editor@example.org", (org, Role.EDITOR))
        client = log_in(app, "editor@example.org")
        assert "Goal: 100" in client.get("/campaigns/cached/counter").get_data(as_text=True)
        response = post_form(client, f"/admin/campaigns/{campaign.id}/edit",
                             fields(org, slug="cached", title="Cached", goal="250"))
        assert response.status_code == 303
        assert "Goal: 250" in client.get("/campaigns/cached/counter").get_data(as_text=True)


def _signature(campaign: Campaign, n: int, confirmed: bool) -> Signature:
    now = datetime.now(timezone.utc)
    return Signature(campaign_id=campaign.id, first_name="A", last_name="B", email=f"s{n}@example.org",
                     email_hash=f"{n:064d}", country="DE", created_at=now, confirmed_at=now if confirmed else None)


def test_toggling_confirmed_only_counting_recounts(app, editor, org_a, make_campaign):
    campaign = make_campaign(slug="counting", org=org_a, signature_count=3, count_confirmed_only=False)
    db.session.add_all([_signature(campaign, 1, True), _signature(campaign, 2, False), _signature(campaign, 3, False)])
    db.session.commit()
    path = f"/admin/campaigns/{campaign.id}/edit"
    assert post_form(editor, path, fields(org_a, slug="counting", count_confirmed_only=True)).status_code == 303
    assert fresh(campaign).signature_count == 1
    assert post_form(editor, path, fields(org_a, slug="counting", count_confirmed_only=False)).status_code == 303
    assert fresh(campaign).signature_count == 3


def test_moving_a_campaign_needs_editor_rights_in_both_organisations(app, org_a, org_b, make_campaign):
    campaign = make_campaign(slug="moving", org=org_a)
    make_user("half@example.org", (org_a, Role.EDITOR), (org_b, Role.VIEWER))
    half = log_in(app, "half@example.org")
    path = f"/admin/campaigns/{campaign.id}/edit"
    assert post_form(half, path, fields(org_a, slug="moving", organisation=str(org_b.id))).status_code == 422
    assert fresh(campaign).organisation_id == org_a.id

    make_user("both@example.org", (org_a, Role.EDITOR), (org_b, Role.EDITOR))
    both = log_in(app, "both@example.org")
    assert post_form(both, path, fields(org_a, slug="moving", organisation=str(org_b.id))).status_code == 303
    assert fresh(campaign).organisation_id == org_b.id
    orgs = set(db.session.execute(sa.select(AuditEntry.organisation_id)
                                  .where(AuditEntry.action.like("campaign %"))).scalars())
    assert orgs == {org_a.id, org_b.id}  # both organisations' logs show the move


def test_running_organisation_cannot_be_its_own_partner(app, editor, org_a, org_b, make_campaign):
    html = editor.get("/admin/campaigns/new").get_data(as_text=True)
    assert f'name="partners" type="checkbox" value="{org_b.id}"' in html
    assert f'name="partners" type="checkbox" value="{org_a.id}"' not in html  # editor of org A only
    response = post_form(editor, "/admin/campaigns/new", fields(org_a, partners=[str(org_a.id)]))
    assert response.status_code == 422 and 'id="partners-error"' in response.get_data(as_text=True)

    make_user("both@example.org", (org_a, Role.EDITOR), (org_b, Role.EDITOR))
    both = log_in(app, "both@example.org")
    response = post_form(both, "/admin/campaigns/new", fields(org_b, partners=[str(org_a.id), str(org_b.id)]))
    assert response.status_code == 422
    assert "cannot also be its partner" in response.get_data(as_text=True)
    assert campaign_count() == 0

    campaign = make_campaign(slug="partnered", org=org_a)
    html = both.get(f"/admin/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert f'name="partners" type="checkbox" value="{org_a.id}"' not in html


# -- addresses (slugs) ----------------------------------------------------------------------------------------------


def test_changing_the_slug_redirects_every_old_public_url_with_301(app, editor, org_a, make_campaign, client):
    campaign = make_campaign(slug="old-address", org=org_a)
    response = post_form(editor, f"/admin/campaigns/{campaign.id}/edit", fields(org_a, slug="new-address"))
    assert response.status_code == 303
    assert db.session.get(SlugRedirect, "old-address").campaign_id == campaign.id

    for suffix in ("", "/counter", "/actions", "/thanks"):
        response = client.get(f"/campaigns/old-address{suffix}")
        assert response.status_code == 301, suffix
        assert response.headers["Location"] == f"/campaigns/new-address{suffix}"
    assert client.get("/campaigns/old-address?ref=mail").headers["Location"] == "/campaigns/new-address?ref=mail"
    assert client.get("/campaigns/new-address").status_code == 200

    # A form still open on the old address signs the campaign.
    token = csrf_token(client, "/campaigns/new-address")
    response = client.post("/campaigns/old-address/sign", data={**VALID_SIGNATURE, "csrf_token": token})
    assert response.status_code == 303
    assert db.session.execute(sa.select(sa.func.count()).select_from(Signature)
                              .where(Signature.campaign_id == campaign.id)).scalar_one() == 1


def test_former_slug_stays_reserved_but_its_campaign_may_take_it_back(app, editor, org_a, make_campaign):
    campaign = make_campaign(slug="first-name", org=org_a)
    path = f"/admin/campaigns/{campaign.id}/edit"
    assert post_form(editor, path, fields(org_a, slug="second-name")).status_code == 303

    response = post_form(editor, "/admin/campaigns/new", fields(org_a, slug="first-name"))
    assert response.status_code == 422
    assert 'id="slug-error"' in response.get_data(as_text=True)
    assert campaign_count() == 1

    other = make_campaign(slug="someone-else", org=org_a)
    response = post_form(editor, f"/admin/campaigns/{other.id}/edit", fields(org_a, slug="first-name"))
    assert response.status_code == 422
    response = post_form(editor, f"/admin/campaigns/{other.id}/edit", fields(org_a, slug="second-name"))
    assert response.status_code == 422
    assert fresh(other).slug == "someone-else"

    assert post_form(editor, path, fields(org_a, slug="first-name")).status_code == 303
    assert fresh(campaign).slug == "first-name"
    db.session.expire_all()
    assert db.session.get(SlugRedirect, "first-name") is None
    assert db.session.get(SlugRedirect, "second-name").campaign_id == campaign.id


def test_a_slug_taken_at_the_same_moment_re_renders_instead_of_failing(app, editor, org_a, make_campaign,
                                                                       monkeypatch):
    from petition_app.admin import editing

    make_campaign(slug="contested", org=org_a)
    mine = make_campaign(slug="mine", org=org_a)
    monkeypatch.setattr(editing, "slug_taken", lambda slug, campaign_id: False)  # the other save lands in between
    response = post_form(editor, "/admin/campaigns/new", fields(org_a, slug="contested"))
    assert response.status_code == 422 and 'id="slug-error"' in response.get_data(as_text=True)
    assert campaign_count() == 2
    response = post_form(editor, f"/admin/campaigns/{mine.id}/edit", fields(org_a, slug="contested", title="T2"))
    assert response.status_code == 422
    mine = fresh(mine)
    assert (mine.slug, mine.title) == ("mine", "Free the test campaign")
    assert db.session.execute(sa.select(sa.func.count()).select_from(SlugRedirect)).scalar_one() == 0


def test_slug_is_lower_cased_and_related_list_is_prefilled_in_order(app, editor, org_a, make_campaign):
    make_campaign(slug="first", org=org_a)
    make_campaign(slug="second", org=org_a)
    response = post_form(editor, "/admin/campaigns/new", fields(org_a, slug="Mixed-Case", related="second\nfirst"))
    assert response.status_code == 303
    campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == "mixed-case")).scalar_one()
    html = editor.get(f"/admin/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert re.search(r'name="related"[^>]*>\s*second\nfirst</textarea>', html)


def test_related_campaigns_must_exist_differ_from_itself_and_not_repeat(app, editor, org_a, org_b, make_campaign):
    campaign = make_campaign(slug="main", org=org_a)
    make_campaign(slug="friend", org=org_b)
    make_campaign(slug="secret-draft", org=org_b, status=CampaignStatus.DRAFT)
    path = f"/admin/campaigns/{campaign.id}/edit"
    cases = {
        "nowhere": "there is no campaign at",
        "main": "cannot link to itself",
        "friend\nfriend": "is listed twice",
        "secret-draft": "there is no campaign at",  # other organisations' drafts stay invisible
    }
    for related, message in cases.items():
        response = post_form(editor, path, fields(org_a, slug="main", related=related, title="Changed"))
        assert response.status_code == 422, related
        html = response.get_data(as_text=True)
        assert message in html and 'id="related-error"' in html
    assert fresh(campaign).title == "Free the test campaign"
    assert db.session.execute(sa.select(sa.func.count()).select_from(RelatedCampaign)).scalar_one() == 0


# -- preview --------------------------------------------------------------------------------------------------------


def test_preview_returns_sanitized_html(app, editor):
    source = "**bold** <script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>"
    for data in ({"source": source}, {"body": source}):
        response = editor.post("/admin/preview", data=data, headers={
            "HX-Request": "true", "X-CSRFToken": token_for(editor, "/admin/")})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<strong>bold</strong>" in html
        assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "<img" not in html


def test_preview_rejects_huge_texts_and_strangers(app, editor, client):
    headers = {"HX-Request": "true", "X-CSRFToken": token_for(editor, "/admin/")}
    response = editor.post("/admin/preview", data={"source": "a" * 200_001}, headers=headers)
    assert response.status_code == 413
    assert "too long to preview" in response.get_data(as_text=True)
    assert editor.post("/admin/preview", data={"source": "x"}).status_code == 400  # no CSRF token
    response = client.post("/admin/preview", data={"source": "x"}, headers={"X-CSRFToken": csrf_token(client, "/admin/login")})
    assert response.status_code == 303 and "/admin/login" in response.headers["Location"]


def test_preview_button_without_javascript_shows_the_texts_and_saves_nothing(app, editor, org_a):
    data = fields(org_a, body="Some *emphasis*", preview="1")
    response = post_form(editor, "/admin/campaigns/new", data)
    assert response.status_code == 200
    assert "<em>emphasis</em>" in response.get_data(as_text=True)
    assert campaign_count() == 0


# -- hostile input --------------------------------------------------------------------------------------------------

HOSTILE = [
    ("title", "", "title"),
    ("title", "x" * 301, "title"),
    ("title", "Stop\x00 the bill", "title"),
    ("title", "Stop \u202ethe bill", "title"),
    ("lead", "line\x07bell", "lead"),
    ("body", "b" * 100_001, "body"),
    ("petition_text", "zero\u200bwidth", "petition_text"),
    ("demands", "one\x1btwo", "demands"),
    ("quote_attribution", "q" * 301, "quote_attribution"),
    ("petition_heading", "h" * 301, "petition_heading"),
    ("started_by", "s" * 201, "started_by"),
    ("goal", "0", "goal"),
    ("goal", "100000001", "goal"),
    ("goal", "ten", "goal"),
    ("goal", "", "goal"),
    ("offline_count", "-1", "offline_count"),
    ("offline_count", "99999999999999999999", "offline_count"),
    ("deadline", "next tuesday", "deadline"),
    ("deadline", "2025-02-30T10:00", "deadline"),
    ("slug", "", "slug"),
    ("slug", "has space", "slug"),
    ("slug", "trailing-", "slug"),
    ("slug", "ünicode", "slug"),
    ("slug", "s" * 121, "slug"),
    ("slug", "../admin", "slug"),
    ("language", "xx", "language"),
    ("organisation", "999999", "organisation"),
    ("organisation", "abc", "organisation"),
    ("partners", ["abc"], "partners"),
    ("partners", ["999999"], "partners"),
    ("related", "\n".join(f"c{i}" for i in range(21)), "related"),
]


@pytest.mark.parametrize(("name", "value", "error_field"), HOSTILE, ids=[f"{n}-{i}" for i, (n, _v, _f) in
                                                                         enumerate(HOSTILE)])
def test_hostile_input_re_renders_with_422_and_stores_nothing(app, editor, org_a, make_campaign, name, value,
                                                             error_field):
    response = post_form(editor, "/admin/campaigns/new", {**fields(org_a, slug="hostile-new"), name: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{error_field}-error"' in html
    assert campaign_count() == 0

    campaign = make_campaign(slug="kept", org=org_a, title="Kept title")
    data = fields(org_a, slug="kept", title="Kept title", lead="changed lead")
    data[name] = value
    response = post_form(editor, f"/admin/campaigns/{campaign.id}/edit", data)
    assert response.status_code == 422
    assert fresh(campaign).lead == "A lead paragraph."
    assert "campaign edited" not in audit_actions()


def test_the_longest_texts_in_cyrillic_fit_in_one_request(app, editor, org_a):
    # The form is sent as multipart: 100,000 Cyrillic characters would triple in size when URL-encoded.
    body = ("Свобода " * 12_500)[:100_000].strip()
    data = {**fields(org_a, body=body, petition_text=body), "csrf_token": token_for(editor, "/admin/campaigns/new")}
    response = editor.post("/admin/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert db.session.execute(sa.select(Campaign.body)).scalar_one() == body


def test_html_in_the_title_is_stored_as_typed_and_shown_escaped(app, editor, org_a, make_campaign, client):
    campaign = make_campaign(slug="escaped", org=org_a)
    title = "<script>alert(1)</script> & <b>bold</b>"
    response = post_form(editor, f"/admin/campaigns/{campaign.id}/edit", fields(org_a, slug="escaped", title=title))
    assert response.status_code == 303
    assert fresh(campaign).title == title
    html = client.get("/campaigns/escaped").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html


def test_markdown_with_script_is_sanitized_on_the_public_page(app, editor, org_a, make_campaign, client):
    campaign = make_campaign(slug="md", org=org_a)
    body = "Hi <script>alert(1)</script> [x](javascript:alert(1))"
    assert post_form(editor, f"/admin/campaigns/{campaign.id}/edit", fields(org_a, slug="md", body=body)
                     ).status_code == 303
    html = client.get("/campaigns/md").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "javascript:" not in html


# -- status ---------------------------------------------------------------------------------------------------------


def _status(client, campaign, to, **extra):
    token = token_for(client, f"/admin/campaigns/{campaign.id}/status")
    return client.post(f"/admin/campaigns/{campaign.id}/status", data={"to": to, "csrf_token": token, **extra})


def test_status_flow_asks_for_confirmation_then_changes(app, editor, org_a, make_campaign, client):
    campaign = make_campaign(slug="flow", org=org_a, status=CampaignStatus.DRAFT)
    page = editor.get(f"/admin/campaigns/{campaign.id}/status?to=open")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Opening publishes the campaign at" in html and "http://localhost/campaigns/flow" in html
    assert 'name="to" value="open"' in html
    assert fresh(campaign).status == CampaignStatus.DRAFT  # a GET changes nothing

    response = _status(editor, campaign, "open", **{"from": "draft"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/campaigns/{campaign.id}"
    assert fresh(campaign).status == CampaignStatus.OPEN
    assert client.get("/campaigns/flow").status_code == 200

    assert "Closing stops signing" in editor.get(f"/admin/campaigns/{campaign.id}/status?to=closed").get_data(
        as_text=True)
    assert _status(editor, campaign, "closed").status_code == 303
    assert "This campaign is closed" in client.get("/campaigns/flow").get_data(as_text=True)

    assert "Reopening" in editor.get(f"/admin/campaigns/{campaign.id}/status?to=open").get_data(as_text=True)
    assert _status(editor, campaign, "open").status_code == 303
    assert _status(editor, campaign, "closed").status_code == 303
    assert _status(editor, campaign, "delivered").status_code == 303
    assert "have been delivered" in client.get("/campaigns/flow").get_data(as_text=True)
    assert fresh(campaign).status == CampaignStatus.DELIVERED
    assert audit_actions().count("campaign status") == 5


@pytest.mark.parametrize(("start", "to"), [
    (CampaignStatus.DRAFT, "closed"), (CampaignStatus.DRAFT, "delivered"), (CampaignStatus.OPEN, "draft"),
    (CampaignStatus.OPEN, "delivered"), (CampaignStatus.DELIVERED, "open"), (CampaignStatus.CLOSED, "draft"),
    (CampaignStatus.OPEN, "open"), (CampaignStatus.OPEN, "nonsense"), (CampaignStatus.OPEN, ""),
])
def test_illegal_status_changes_answer_422(app, editor, org_a, make_campaign, start, to):
    campaign = make_campaign(slug="stuck", org=org_a, status=start)
    if to:
        assert editor.get(f"/admin/campaigns/{campaign.id}/status?to={to}").status_code == 422
    response = _status(editor, campaign, to)
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert fresh(campaign).status == start
    assert "campaign status" not in audit_actions()


def test_a_stale_confirmation_is_refused(app, editor, org_a, make_campaign):
    campaign = make_campaign(slug="stale", org=org_a, status=CampaignStatus.CLOSED)
    response = _status(editor, campaign, "open", **{"from": "open"})
    assert response.status_code == 422
    assert fresh(campaign).status == CampaignStatus.CLOSED


def test_opening_clears_the_cached_counter(make_app):
    app = make_app(COUNTER_CACHE_SECONDS=600)
    with app.app_context():
        org = make_org("org-a")
        campaign = Campaign(slug="soon", title="Soon", goal=100, status=CampaignStatus.DRAFT, organisation=org)
        db.session.add(campaign)
        db.session.commit()
        make_user("editor@example.org", (org, Role.EDITOR))
        client = log_in(app, "editor@example.org")
        assert client.get("/campaigns/soon/counter").status_code == 404  # cached as "no such campaign"
        assert _status(client, campaign, "open").status_code == 303
        assert client.get("/campaigns/soon/counter").status_code == 200


# -- dated updates --------------------------------------------------------------------------------------------------


def test_updates_can_be_added_edited_and_deleted_and_show_newest_first(app, editor, org_a, make_campaign, client):
    campaign = make_campaign(slug="news", org=org_a)
    path = f"/admin/campaigns/{campaign.id}/updates"
    assert editor.get(path).status_code == 200
    for day, title, body in (("2024-03-01", "Older", "older *news*"), ("2025-04-02", "", "newer news")):
        response = post_form(editor, path, {"published_on": day, "title": title, "body": body})
        assert response.status_code == 303 and response.headers["Location"] == path
    html = client.get("/campaigns/news").get_data(as_text=True)
    assert html.index("newer news") < html.index("older <em>news</em>")
    assert "Update – 2 April 2025" in html and "Update – 1 March 2024: Older" in html

    older_id = db.session.execute(sa.select(CampaignUpdate.id).where(CampaignUpdate.title == "Older")).scalar_one()
    edit = f"{path}/{older_id}/edit"
    assert "older *news*" in editor.get(edit).get_data(as_text=True)
    assert post_form(editor, edit, {"published_on": "2026-01-01", "title": "Now newest", "body": "edited"}
                     ).status_code == 303
    html = client.get("/campaigns/news").get_data(as_text=True)
    assert html.index("edited") < html.index("newer news")

    delete = f"{path}/{older_id}/delete"
    confirm = editor.get(delete)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.get_data(as_text=True)
    assert db.session.get(CampaignUpdate, older_id) is not None
    assert post_form(editor, delete, {}).status_code == 303
    db.session.expire_all()
    assert db.session.get(CampaignUpdate, older_id) is None
    assert "Now newest" not in client.get("/campaigns/news").get_data(as_text=True)
    actions = audit_actions()
    assert actions.count("update added") == 2 and "update edited" in actions and "update deleted" in actions


def test_an_update_of_another_campaign_answers_404(app, editor, org_a, make_campaign):
    mine = make_campaign(slug="mine", org=org_a)
    other = make_campaign(slug="other", org=org_a)
    update = CampaignUpdate(campaign_id=other.id, published_on=date(2025, 1, 1), body="theirs")
    db.session.add(update)
    db.session.commit()
    assert editor.get(f"/admin/campaigns/{mine.id}/updates/{update.id}/edit").status_code == 404
    assert editor.get(f"/admin/campaigns/{mine.id}/updates/999999/edit").status_code == 404
    token = token_for(editor, "/admin/")
    response = editor.post(f"/admin/campaigns/{mine.id}/updates/{update.id}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    assert db.session.get(CampaignUpdate, update.id) is not None


@pytest.mark.parametrize("data", [
    {"published_on": "", "title": "", "body": "text"},
    {"published_on": "yesterday", "title": "", "body": "text"},
    {"published_on": "2025-01-01", "title": "", "body": ""},
    {"published_on": "2025-01-01", "title": "t" * 301, "body": "text"},
    {"published_on": "2025-01-01", "title": "bad\x00title", "body": "text"},
    {"published_on": "2025-01-01", "title": "", "body": "x" * 100_001},
])
def test_invalid_updates_re_render_with_422_and_store_nothing(app, editor, org_a, make_campaign, data):
    campaign = make_campaign(slug="strict", org=org_a)
    response = post_form(editor, f"/admin/campaigns/{campaign.id}/updates", data)
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count()).select_from(CampaignUpdate)).scalar_one() == 0


# -- site pages -----------------------------------------------------------------------------------------------------


def test_site_page_edit_shows_in_that_language_and_reset_restores_the_default(app, superuser, client):
    assert superuser.get("/admin/pages").status_code == 200
    form = superuser.get("/admin/pages/privacy/ru").get_data(as_text=True)
    assert "Политика конфиденциальности" in form  # prefilled from the shipped text
    response = post_form(superuser, "/admin/pages/privacy/ru", {"title": "Наша политика", "body": "Мы *ничего* не храним."})
    assert response.status_code == 303
    assert db.session.execute(sa.select(SitePage)).scalar_one().language == "ru"
    assert "site page edited" in audit_actions()

    client.set_cookie("lang", "ru")
    html = client.get("/privacy").get_data(as_text=True)
    assert "Наша политика" in html and "<em>ничего</em>" in html
    client.set_cookie("lang", "en")
    assert "Privacy notice" in client.get("/privacy").get_data(as_text=True)

    assert "Наша политика" in superuser.get("/admin/pages/privacy/ru").get_data(as_text=True)
    assert post_form(superuser, "/admin/pages/privacy/ru/reset", {}).status_code == 303
    client.set_cookie("lang", "ru")
    html = client.get("/privacy").get_data(as_text=True)
    assert "Политика конфиденциальности" in html and "Наша политика" not in html
    assert db.session.execute(sa.select(sa.func.count()).select_from(SitePage)).scalar_one() == 0


def test_site_pages_are_for_superusers_only_and_know_their_names(app, superuser, editor):
    assert editor.get("/admin/pages").status_code == 404
    assert editor.get("/admin/pages/privacy/en").status_code == 404
    assert superuser.get("/admin/pages/cookies/en").status_code == 404
    assert superuser.get("/admin/pages/privacy/de").status_code == 404
    token = token_for(editor, "/admin/")
    assert editor.post("/admin/pages/privacy/en", data={"title": "x", "body": "y", "csrf_token": token}
                       ).status_code == 404
    response = post_form(superuser, "/admin/pages/terms/en", {"title": "", "body": "text"})
    assert response.status_code == 422 and 'id="title-error"' in response.get_data(as_text=True)
    response = post_form(superuser, "/admin/pages/terms/en", {"title": "T", "body": "x\x00y"})
    assert response.status_code == 422
    assert db.session.execute(sa.select(sa.func.count()).select_from(SitePage)).scalar_one() == 0


# -- every route here is behind an access decorator ------------------------------------------------------------------


def test_every_route_of_the_campaign_areas_declares_its_access_rule(app):
    from petition_app.admin import campaigns, previews, site_pages, updates

    modules = {module.__name__ for module in (campaigns, previews, site_pages, updates)}
    endpoints = [rule.endpoint for rule in app.url_map.iter_rules()
                 if app.view_functions[rule.endpoint].__module__ in modules]
    assert len(endpoints) >= 10
    for endpoint in endpoints:
        assert getattr(app.view_functions[endpoint], "required_role", None), endpoint

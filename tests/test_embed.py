"""The embeddable petition: framed only by a campaign's partner origins, signing inside it, and its admin page."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from petition_app.embed.origins import OriginError, parse_origin, parse_origins
from petition_app.extensions import db
from petition_app.models import AuditEntry, CampaignStatus, EmbedOrigin, Role, Signature
from tests.conftest import VALID_SIGNATURE, csrf_token, log_in, make_org, make_user


def _rows() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one()


def _allow(campaign, *origins: str) -> None:
    db.session.add_all(EmbedOrigin(campaign_id=campaign.id, origin=o) for o in origins)
    db.session.commit()


# -- origins ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "origin"), [
    ("https://partner.example.org", "https://partner.example.org"),
    ("  HTTPS://Partner.Example.ORG/  ", "https://partner.example.org"),
    ("https://partner.example.org:443", "https://partner.example.org"),
    ("https://partner.example.org:8443", "https://partner.example.org:8443"),
    ("https://пример.рф", "https://xn--e1afmkfd.xn--p1ai"),
    ("http://localhost:8000", "http://localhost:8000"),
    ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_an_origin_is_normalised(text, origin):
    assert parse_origin(text) == origin


@pytest.mark.parametrize("text", [
    "http://partner.example.org",  # plain http outside loopback
    "https://*.example.org",
    "*",
    "https://partner.example.org/petitions",
    "https://partner.example.org?x=1",
    "https://partner.example.org#top",
    "https://user:pw@partner.example.org",
    "partner.example.org",
    "javascript:alert(1)",
    "https://partner.example.org 'unsafe-inline'",
    "https://partner.example.org;script-src",
    "https://bad_host!.example",
    "https://partner.example.org:99999",
    "'self'",
    "data:",
])
def test_an_origin_that_could_widen_the_policy_is_refused(text):
    with pytest.raises(OriginError):
        parse_origin(text)


def test_origins_are_one_a_line_without_repeats():
    assert parse_origins("https://a.example\n\nhttps://A.example/\nhttp://localhost:3000\n") == [
        "https://a.example", "http://localhost:3000"]


# -- the embed page ---------------------------------------------------------------------------------------------------


def test_without_partner_origins_the_embed_page_cannot_be_framed(client, make_campaign):
    make_campaign(slug="emb-none")
    response = client.get("/campaigns/emb-none/embed")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_embed_page_is_framed_by_the_listed_origins_only(client, make_campaign):
    campaign = make_campaign(slug="emb-ok", title="Embed me")
    _allow(campaign, "https://partner.example.org", "http://localhost:8000")

    response = client.get("/campaigns/emb-ok/embed")
    page = client.get("/campaigns/emb-ok")

    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors http://localhost:8000 https://partner.example.org;" in policy
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_embed_page_is_compact_public_and_the_same_for_everyone(client, make_campaign):
    make_campaign(slug="emb-page", title="Embed me")

    first = client.get("/campaigns/emb-page/embed")
    second = client.get("/campaigns/emb-page/embed", headers={"Accept-Encoding": "identity"})
    html = first.get_data(as_text=True)

    assert "Set-Cookie" not in first.headers
    assert first.headers["Cache-Control"].startswith("public")
    assert first.get_data() == second.get_data()
    assert 'class="site-header"' not in html and 'class="site-footer"' not in html
    assert '<input type="hidden" name="embed" value="1">' in html
    assert 'id="counter-top"' in html
    assert 'name="csrf_token"' in html
    assert "/static/js/embed." in html and "<script>" not in html  # hashed first-party script, nothing inline


def test_a_draft_has_no_embed_page(client, make_campaign):
    make_campaign(slug="emb-draft", status=CampaignStatus.DRAFT)
    assert client.get("/campaigns/emb-draft/embed").status_code == 404
    assert client.get("/campaigns/emb-draft/embed/thanks").status_code == 404


def test_signing_in_the_frame_without_javascript_lands_on_the_framed_thanks_page(client, make_campaign):
    campaign = make_campaign(slug="emb-sign")
    _allow(campaign, "https://partner.example.org")
    data = {**VALID_SIGNATURE, "embed": "1", "csrf_token": csrf_token(client, "/campaigns/emb-sign/embed")}

    response = client.post("/campaigns/emb-sign/sign", data=data,
                           headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "iframe", "Origin": "null"})
    thanks = client.get(response.headers["Location"])

    assert response.status_code == 303
    assert response.headers["Location"] == "/campaigns/emb-sign/embed/thanks"
    assert "Set-Cookie" not in response.headers
    assert _rows() == 1
    assert thanks.status_code == 200
    assert "please check your mailbox" in thanks.get_data(as_text=True)
    assert "frame-ancestors https://partner.example.org;" in thanks.headers["Content-Security-Policy"]


def test_a_form_with_errors_in_the_frame_comes_back_as_the_framed_embed_page(client, make_campaign):
    campaign = make_campaign(slug="emb-err")
    _allow(campaign, "https://partner.example.org")
    data = {**VALID_SIGNATURE, "email": "not-an-email", "embed": "1",
            "csrf_token": csrf_token(client, "/campaigns/emb-err/embed")}

    response = client.post("/campaigns/emb-err/sign", data=data)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert 'class="site-header"' not in html
    assert 'name="embed" value="1"' in html
    assert "does not look like an email address" in html
    assert "frame-ancestors https://partner.example.org;" in response.headers["Content-Security-Policy"]
    assert _rows() == 0


def test_signing_in_the_frame_with_htmx_shows_the_compact_thanks(client, make_campaign):
    campaign = make_campaign(slug="emb-htmx")
    _allow(campaign, "https://partner.example.org")
    data = {**VALID_SIGNATURE, "embed": "1", "csrf_token": csrf_token(client, "/campaigns/emb-htmx/embed")}

    response = client.post("/campaigns/emb-htmx/sign", data=data, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert 'id="thanks"' in html and "Thank you for signing!" in html
    assert "wa.me" not in html  # no share links inside a partner's frame
    assert _rows() == 1


def test_a_cross_site_post_into_the_sign_form_is_still_refused(client, make_campaign):
    campaign = make_campaign(slug="emb-xs")
    _allow(campaign, "https://partner.example.org")
    data = {**VALID_SIGNATURE, "embed": "1", "csrf_token": csrf_token(client, "/campaigns/emb-xs/embed")}

    response = client.post("/campaigns/emb-xs/sign", data=data,
                           headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example.org"})

    assert response.status_code == 400
    assert _rows() == 0


# -- the admin page ---------------------------------------------------------------------------------------------------


def test_an_editor_lists_partner_sites_and_the_embed_page_follows_at_once(app, make_campaign):
    org = make_org("emb-org")
    campaign = make_campaign(slug="emb-admin", org=org)
    make_user("editor@example.org", (org, Role.EDITOR))
    editor = log_in(app, "editor@example.org")
    public = app.test_client()
    assert "frame-ancestors 'none'" in public.get("/campaigns/emb-admin/embed").headers["Content-Security-Policy"]
    path = f"/admin/campaigns/{campaign.id}/embed"

    response = editor.post(path, data={"origins": "https://Partner.example.org/\nhttp://localhost:8000",
                                       "csrf_token": csrf_token(editor, path)})

    assert response.status_code == 303
    stored = db.session.execute(sa.select(EmbedOrigin.origin).where(EmbedOrigin.campaign_id == campaign.id)
                                .order_by(EmbedOrigin.origin)).scalars().all()
    assert stored == ["http://localhost:8000", "https://partner.example.org"]
    policy = public.get("/campaigns/emb-admin/embed").headers["Content-Security-Policy"]
    assert "frame-ancestors http://localhost:8000 https://partner.example.org;" in policy
    audit = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "embedding sites changed")).scalar()
    assert audit is not None and "https://partner.example.org" in audit.detail
    snippet = html.unescape(editor.get(path).get_data(as_text=True))  # shown in a textarea, escaped
    assert '<iframe src="http://localhost/campaigns/emb-admin/embed"' in snippet
    assert 'e.origin !== "http://localhost"' in snippet


def test_a_bad_origin_is_refused_with_a_message_and_nothing_is_saved(app, make_campaign):
    org = make_org("emb-org2")
    campaign = make_campaign(slug="emb-bad", org=org)
    _allow(campaign, "https://kept.example.org")
    make_user("editor2@example.org", (org, Role.EDITOR))
    editor = log_in(app, "editor2@example.org")
    path = f"/admin/campaigns/{campaign.id}/embed"

    response = editor.post(path, data={"origins": "https://ok.example.org\nhttps://*.example.org",
                                       "csrf_token": csrf_token(editor, path)})

    assert response.status_code == 422
    assert "wildcards are not allowed" in response.get_data(as_text=True)
    assert db.session.execute(sa.select(EmbedOrigin.origin)).scalars().all() == ["https://kept.example.org"]


def test_a_viewer_cannot_open_the_embed_settings(app, make_campaign):
    org = make_org("emb-org3")
    campaign = make_campaign(slug="emb-viewer", org=org)
    make_user("viewer@example.org", (org, Role.VIEWER))
    viewer = log_in(app, "viewer@example.org")
    assert viewer.get(f"/admin/campaigns/{campaign.id}/embed").status_code == 404

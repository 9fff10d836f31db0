"""Site settings from the admin, the contact page's placeholders, and owners editing their organisation."""

from __future__ import annotations

import io
import re
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from petition_app import site_settings
from petition_app.extensions import db
from petition_app.models import AuditEntry, Organisation, Role, SitePage, SiteSetting
from tests.conftest import csrf_token, log_in, make_org, make_user, sql_statements


def _settings_form(client, **fields) -> dict:
    """The settings form as the page fills it, with some fields changed."""
    html = client.get("/admin/settings").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*?name="([a-z_]+)"[^>]*?value="([^"]*)"', html))
    for name in re.findall(r'<input[^>]*?name="([a-z_]+)"', html):
        data.setdefault(name, "")
    data.update(fields)
    return data


@pytest.fixture
def superuser(app):
    make_user("root@example.org", superuser=True)
    return log_in(app, "root@example.org")


def test_settings_page_is_for_superusers_only(app, client):
    org = make_org("org-a")
    make_user("owner@example.org", (org, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    assert owner.get("/admin/settings").status_code == 404
    assert owner.post("/admin/settings", data={"site_name_en": "Mine",
                                               "csrf_token": csrf_token(owner, "/admin/")}).status_code == 404
    assert db.session.execute(sa.select(SiteSetting)).first() is None
    assert client.get("/admin/settings").status_code == 303  # to the login


def test_site_name_and_footer_change_the_public_pages_at_once_per_language(app, client, superuser):
    before = client.get("/privacy", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Правозащитный сайт" not in before
    response = superuser.post("/admin/settings", data=_settings_form(
        superuser, site_name_en="Rights Site", site_name_ru="Правозащитный сайт",
        footer_text_en="Run by the Example Collective.", footer_text_ru="Сайт ведёт коллектив."))
    assert response.status_code == 303
    english = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    russian = client.get("/privacy", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<a class="brand" href="/">Rights Site</a>' in english
    assert '<p class="site-footer-text">Run by the Example Collective.</p>' in english
    assert '<a class="brand" href="/">Правозащитный сайт</a>' in russian
    assert '<p class="site-footer-text">Сайт ведёт коллектив.</p>' in russian
    assert "Run by the Example" not in russian


def test_a_name_missing_in_one_language_is_taken_from_another(app, client, superuser):
    superuser.post("/admin/settings", data=_settings_form(superuser, site_name_en="Rights Site"))
    russian = client.get("/faq", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<a class="brand" href="/">Rights Site</a>' in russian


def test_start_invitation_setting_replaces_the_default(app, client, superuser):
    make_org("host-org")  # the organisation that hosts proposals: /start is open
    superuser.post("/admin/settings", data=_settings_form(superuser, start_invitation_en="Tell us what to change."))
    html = client.get("/start", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<p class="lead">Tell us what to change.</p>' in html
    russian = client.get("/start", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Tell us what to change." not in russian  # a sentence is not shown in another language


def test_emptying_a_field_goes_back_to_the_default(app, client, superuser):
    superuser.post("/admin/settings", data=_settings_form(superuser, site_name_en="Rights Site"))
    superuser.post("/admin/settings", data=_settings_form(superuser, site_name_en=""))
    assert db.session.execute(sa.select(SiteSetting)).first() is None
    html = client.get("/terms", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<a class="brand" href="/">Petitions</a>' in html


@pytest.mark.parametrize(("colour", "ratio"), [("#ffcc00", "1.51"), ("#D9366D", "4.46"), ("#777777", "4.47")])
def test_a_colour_white_text_cannot_be_read_on_is_refused_naming_the_ratio(app, superuser, colour, ratio):
    response = superuser.post("/admin/settings", data=_settings_form(superuser, primary_colour=colour))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"White text on {colour.lower()} has a contrast ratio of {ratio}:1; at least 4.5:1 is needed" in html
    assert 'aria-describedby="primary_colour-hint primary_colour-error"' in html
    assert db.session.execute(sa.select(SiteSetting)).first() is None


def test_a_colour_that_is_not_a_colour_is_refused(app, superuser):
    response = superuser.post("/admin/settings", data=_settings_form(superuser, primary_colour="purple"))
    assert response.status_code == 422
    assert "six hexadecimal digits" in response.get_data(as_text=True)


def test_contrast_ratio_follows_wcag():
    assert round(site_settings.contrast_with_white("#000000"), 2) == 21.0
    assert round(site_settings.contrast_with_white("#ffffff"), 2) == 1.0
    assert round(site_settings.contrast_with_white("#767676"), 2) == 4.54  # the lightest grey that passes


def test_a_readable_colour_is_served_as_a_versioned_stylesheet(app, client, superuser):
    assert 'href="/site.css' not in client.get("/faq").get_data(as_text=True)
    response = superuser.post("/admin/settings", data=_settings_form(superuser, primary_colour="#1A5C3A"))
    assert response.status_code == 303
    html = client.get("/faq").get_data(as_text=True)
    url = re.search(r'<link rel="stylesheet" href="(/site\.css\?v=[0-9a-f]{16})">', html).group(1)
    css = client.get(url)
    assert css.mimetype == "text/css"
    assert css.get_data(as_text=True) == ":root { --brand: #1a5c3a; --brand-dark: #14452c; }\n"
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Set-Cookie" not in css.headers
    superuser.post("/admin/settings", data=_settings_form(superuser, primary_colour="#00008b"))
    new_url = re.search(r'href="(/site\.css\?v=[0-9a-f]{16})"', client.get("/faq").get_data(as_text=True)).group(1)
    assert new_url != url
    stale = client.get(url)  # an old address answers the current sheet, but only briefly cached
    assert "--brand: #00008b" in stale.get_data(as_text=True)
    assert "immutable" not in stale.headers["Cache-Control"]


def test_changes_are_audit_logged_and_listed(app, superuser):
    superuser.post("/admin/settings", data=_settings_form(superuser, site_name_ru="Сайт", primary_colour="#00008b"))
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "site settings changed")).scalar_one()
    assert entry.actor == "root@example.org"
    assert entry.detail == "fields: primary_colour, site_name (ru)"
    html = superuser.get("/admin/settings").get_data(as_text=True)
    assert "fields: primary_colour, site_name (ru)" in html
    superuser.post("/admin/settings", data=_settings_form(superuser))  # nothing changed: nothing recorded
    assert db.session.execute(sa.select(sa.func.count(AuditEntry.id))
                              .where(AuditEntry.action == "site settings changed")).scalar() == 1


def test_settings_are_not_read_from_the_database_per_page_view(app, superuser):
    superuser.post("/admin/settings", data=_settings_form(superuser, site_name_en="Rights Site"))
    client = app.test_client()
    client.get("/faq?x=1")  # a query string bypasses the page cache: the page is rendered each time
    with sql_statements(db.engine) as statements:
        html = client.get("/faq?x=2").get_data(as_text=True)
    assert "Rights Site" in html
    assert not [s for s in statements if "site_settings" in s]


def test_a_second_app_on_the_same_database_and_instance_sees_a_change_without_restart(make_app, app_config):
    first, second = make_app(), make_app()
    with first.app_context():
        make_user("root@example.org", superuser=True)
    admin = log_in(first, "root@example.org")
    visitor = second.test_client()
    assert "Petitions</a>" in visitor.get("/faq").get_data(as_text=True)  # cached in the second app now
    admin.post("/admin/settings", data=_settings_form(admin, site_name_en="Rights Site"))
    assert '<a class="brand" href="/">Rights Site</a>' in visitor.get("/faq").get_data(as_text=True)


def test_mail_sender_name_setting_names_the_sender_of_queued_mails(app, superuser, make_campaign):
    from petition_app.models import OutboxMessage
    from petition_app.signing.service import SignatureInput, sign

    superuser.post("/admin/settings", data=_settings_form(superuser, mail_sender_name_ru="Сфера"))
    sign(make_campaign(), SignatureInput("Anna", "Ivanova", "anna@example.org", "DE", language="ru"))
    sender = db.session.execute(sa.select(OutboxMessage.sender)).scalar_one()
    parsed = message_from_bytes(f"From: {sender}\n\n".encode(), policy=default_policy)
    assert parsed["From"].addresses[0].display_name == "Сфера"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@localhost"


def test_a_repeated_signature_is_mailed_in_its_stored_language_under_that_languages_sender(app, superuser,
                                                                                           make_campaign):
    """The repeat's mail is in the language of the signature (whatever page it came from), and so is its sender;
    a language no longer configured gets what mailer.default_sender gives it (PostgreSQL picks it in SQL)."""
    from petition_app import mailer
    from petition_app.models import OutboxMessage, Signature
    from petition_app.signing.service import SignatureInput, sign

    superuser.post("/admin/settings", data=_settings_form(superuser, mail_sender_name_ru="Сфера",
                                                          mail_sender_name_en="Sphere"))
    campaign = make_campaign(count_confirmed_only=False)
    sign(campaign, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE", language="ru"))
    sign(campaign, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE", language="en"))  # from the English page
    db.session.execute(sa.update(Signature).values(language="xx", repeat_day=None, repeat_mails=0))
    db.session.commit()
    sign(campaign, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE", language="en"))
    rows = db.session.execute(sa.select(OutboxMessage.language, OutboxMessage.sender, OutboxMessage.kind)
                              .order_by(OutboxMessage.id)).all()
    names = [message_from_bytes(f"From: {sender}\n\n".encode(), policy=default_policy)["From"].addresses[0]
             .display_name for _language, sender, _kind in rows]
    assert [(language, kind) for language, _sender, kind in rows] == [
        ("ru", "confirm"), ("ru", "confirm"), ("xx", "confirm")]
    assert names[:2] == ["Сфера", "Сфера"]
    assert rows[2][1] == mailer.default_sender("xx") != mailer.default_sender("ru")


def test_without_a_sender_name_setting_mails_keep_the_configured_sender(app):
    from petition_app import mailer

    assert mailer.default_sender("en") == "Petitions <no-reply@localhost>"


# -- the contact page's placeholders --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru"])
def test_contact_page_never_shows_the_shipped_placeholders(client, language):
    html = client.get("/contact", headers={"Accept-Language": language}).get_data(as_text=True)
    assert "example.org" not in html and "0000 0000" not in html and ".onion" not in html
    assert "have not published their contact details" in html or "не опубликовали" in html


def test_contact_page_shows_the_details_once_a_superuser_filled_them_in(app, client):
    db.session.add(SitePage(name="contact", language="en", title="Contact us",
                            body="Write to **team@rights.test**, fingerprint `A1B2 C3D4`."))
    db.session.commit()
    english = client.get("/contact", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<strong>team@rights.test</strong>" in english
    russian = client.get("/contact", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "team@rights.test" not in russian and "0000 0000" not in russian


def test_an_edited_contact_page_that_keeps_a_placeholder_is_still_held_back(app, client):
    db.session.add(SitePage(name="contact", language="en", title="Contact",
                            body="Mail team@rights.test; key `0000 0000 0000 0000 0000  0000 0000 0000 0000 0000`."))
    db.session.commit()
    html = client.get("/contact", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "team@rights.test" not in html and "0000 0000" not in html


def test_admin_reminds_superusers_of_the_placeholders_until_filled_in(app, superuser):
    html = superuser.get("/admin/").get_data(as_text=True)
    assert "The contact page still shows example details" in html
    assert 'href="/admin/pages/contact/en"' in html and 'href="/admin/pages/contact/ru"' in html
    for language in app.config["LANGUAGES"]:
        db.session.add(SitePage(name="contact", language=language, title="Contact", body="team@rights.test"))
    db.session.commit()
    assert "The contact page still shows example details" not in superuser.get("/admin/").get_data(as_text=True)


def test_owners_are_not_shown_the_placeholder_reminder(app):
    org = make_org("org-a")
    make_user("owner@example.org", (org, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    assert "The contact page still shows example details" not in owner.get("/admin/").get_data(as_text=True)


# -- organisation owners edit their organisation's public details ---------------------------------------------------


def _details(client, slug: str, **fields) -> dict:
    return {"name": "", "website": "", "description": "",
            "csrf_token": csrf_token(client, f"/admin/orgs/{slug}"), **fields}


def test_owner_edits_own_organisation_details_and_it_is_audited(app, client):
    org = make_org("org-a", name="Org A")
    make_user("owner@example.org", (org, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    assert 'href="/admin/orgs/org-a/details"' in owner.get("/admin/orgs/org-a").get_data(as_text=True)
    response = owner.post("/admin/orgs/org-a/details", data=_details(
        owner, "org-a", name="Org A Collective", website="https://org-a.test/", description="We campaign."))
    assert response.status_code == 303
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    assert (org.name, org.website, org.description) == ("Org A Collective", "https://org-a.test/", "We campaign.")
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action != "login")).scalar_one()
    assert (entry.action, entry.organisation_id, entry.detail) == (
        "organisation details edited", org.id, "fields: name, website, description")


def test_owner_cannot_edit_another_organisation(app):
    own, other = make_org("org-a", name="Org A"), make_org("org-b", name="Org B")
    make_user("owner@example.org", (own, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    assert owner.get("/admin/orgs/org-b/details").status_code == 404
    response = owner.post("/admin/orgs/org-b/details", data=_details(owner, "org-a", name="Taken over"))
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Organisation, other.id).name == "Org B"


def test_editor_of_the_organisation_cannot_edit_its_details(app):
    org = make_org("org-a", name="Org A")
    make_user("editor@example.org", (org, Role.EDITOR))
    editor = log_in(app, "editor@example.org")
    assert editor.get("/admin/orgs/org-a/details").status_code == 404
    assert 'href="/admin/orgs/org-a/details"' not in editor.get("/admin/orgs/org-a").get_data(as_text=True)


@pytest.mark.parametrize("website", ["javascript:alert(1)", "org-a.test", "ftp://org-a.test/", "https://"])
def test_a_website_that_is_not_a_web_address_is_refused(app, website):
    org = make_org("org-a", name="Org A")
    make_user("owner@example.org", (org, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    response = owner.post("/admin/orgs/org-a/details", data=_details(owner, "org-a", name="Org A", website=website))
    assert response.status_code == 422
    assert "Enter a full web address" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).website is None


def test_organisation_name_is_required(app):
    org = make_org("org-a", name="Org A")
    make_user("owner@example.org", (org, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    response = owner.post("/admin/orgs/org-a/details", data=_details(owner, "org-a", name="  "))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).name == "Org A"


# -- the logo -------------------------------------------------------------------------------------------------------


def _photo_with_gps() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (1200, 600), (20, 90, 60))
    exif = Image.Exif()
    exif[0x013B] = "Anna Ivanova"  # Artist
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 7.0), 3: "E", 4: (37.0, 37.0, 4.0)}  # GPS: where the photo was taken
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"taken by Anna Ivanova")
    return out.getvalue()


def test_uploaded_logo_is_reencoded_without_metadata_and_shown_in_the_header(app, client, superuser):
    from PIL import Image

    photo = _photo_with_gps()
    assert b"Anna Ivanova" in photo and Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)
    data = {**_settings_form(superuser), "logo": (io.BytesIO(photo), "protest.jpg", "image/jpeg")}
    response = superuser.post("/admin/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    html = client.get("/faq").get_data(as_text=True)
    match = re.search(r'<a class="brand" href="/"><img src="(/site-logo/logo-[0-9a-f]{16}\.png)" alt="" '
                      r'width="320" height="160">Petitions</a>', html)
    assert match, html[:2000]
    served = client.get(match.group(1))
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    body = served.get_data()
    assert b"Anna Ivanova" not in body and b"Exif" not in body
    logo = Image.open(io.BytesIO(body))
    assert logo.format == "PNG" and logo.size == (320, 160)
    assert not logo.getexif() and "exif" not in logo.info and "comment" not in logo.info
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "site settings changed")).scalar_one()
    assert entry.detail == "fields: logo"


@pytest.mark.parametrize(("content", "filename"), [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg"),
    (b"GIF89a" + b"\x00" * 64, "logo.gif"),
    (b"%PDF-1.4 not a picture", "logo.png"),
    (b"", "empty.png"),
])
def test_a_logo_that_is_not_a_jpeg_png_or_webp_is_refused(app, superuser, content, filename):
    data = {**_settings_form(superuser), "logo": (io.BytesIO(content), filename, "image/png")}
    response = superuser.post("/admin/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="logo-error"' in html
    assert db.session.execute(sa.select(SiteSetting)).first() is None


def test_a_decompression_bomb_is_refused_before_it_is_decoded(app, superuser):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few kilobytes
    data = {**_settings_form(superuser), "logo": (io.BytesIO(out.getvalue()), "bomb.png", "image/png")}
    response = superuser.post("/admin/settings", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "too many pixels" in response.get_data(as_text=True)


def test_the_logo_can_be_removed(app, client, superuser):
    data = {**_settings_form(superuser), "logo": (io.BytesIO(_photo_with_gps()), "logo.jpg", "image/jpeg")}
    superuser.post("/admin/settings", data=data, content_type="multipart/form-data")
    assert "/site-logo/" in client.get("/faq").get_data(as_text=True)
    superuser.post("/admin/settings", data={**_settings_form(superuser), "remove_logo": "y"})
    assert "/site-logo/" not in client.get("/faq").get_data(as_text=True)


def test_another_server_serves_the_logo_from_the_database(app, client, superuser, make_app, tmp_path):
    data = {**_settings_form(superuser), "logo": (io.BytesIO(_photo_with_gps()), "logo.jpg", "image/jpeg")}
    superuser.post("/admin/settings", data=data, content_type="multipart/form-data")
    url = re.search(r'src="(/site-logo/[^"]+)"', client.get("/faq").get_data(as_text=True)).group(1)
    here = client.get(url).get_data()
    other_server = make_app(INSTANCE_PATH=str(tmp_path / "other-instance"))  # its own instance/ folder
    there = other_server.test_client().get(url)
    assert there.status_code == 200 and there.get_data() == here
    assert (tmp_path / "other-instance" / "site" / url.rsplit("/", 1)[1]).read_bytes() == here


@pytest.mark.parametrize("name", ["../secret_key", "logo.png", "logo-0123456789abcdef.png.bak",
                                  "logo-0123456789abcdef.png"])
def test_only_stored_logo_names_are_served(client, name):
    assert client.get(f"/site-logo/{name}").status_code == 404


def test_campaign_page_shows_the_organisation_details_its_owner_set(app, client, make_campaign):
    campaign = make_campaign()
    make_user("owner@example.org", (campaign.organisation, Role.OWNER))
    owner = log_in(app, "owner@example.org")
    slug = campaign.organisation.slug
    owner.post(f"/admin/orgs/{slug}/details", data=_details(
        owner, slug, name="Test Organisation", website="https://org.test/", description="We defend rights & <b>"))
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert ('<p class="organisation-about">We defend rights &amp; &lt;b&gt; '
            '<a href="https://org.test/">Website of Test Organisation</a></p>') in html

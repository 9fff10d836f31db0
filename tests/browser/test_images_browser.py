"""An editor on a phone uploads a photo with GPS coordinates in its EXIF; the published picture has none. A phone's
first view of a campaign with a picture stays light."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import Page, expect

from petition_app.extensions import db
from petition_app.models import Campaign, CampaignImage, Membership, Organisation, Role, User
from petition_app.passwords import hash_password
from tests.test_images import photo_with_gps

SLUG = "russia-oppose-lgbt-criminalization"
PASSWORD = "correct horse battery staple"
FIRST_VIEW_LIMIT = 40 * 1024  # HTML, CSS and JavaScript of a first view (the performance budget)
HERO_LIMIT = 60 * 1024  # the picture a 390-px, 3x phone gets (480 px wide)


def _editor(app) -> int:
    with app.app_context():
        org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "sphere-foundation")).scalar_one()
        user = User(email="editor@sphere.example.org", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=Role.EDITOR))
        db.session.commit()
        campaign_id = db.session.execute(sa.select(Campaign.id).where(Campaign.slug == SLUG)).scalar_one()
        db.session.remove()
        return campaign_id


def _upload_on_phone(page: Page, campaign_id: int, tmp_path) -> None:
    photo = tmp_path / "IMG_20261127_142311.jpg"
    photo.write_bytes(photo_with_gps(3000, 2000, orientation=6))
    with Image.open(photo) as original:  # the file really carries GPS coordinates
        assert original.getexif().get_ifd(0x8825)[2] == (55.0, 45.0, 21.0)
    page.goto("/admin/")
    page.get_by_label("Email").fill("editor@sphere.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/campaigns/{campaign_id}")
    page.get_by_role("link", name="Picture").click()
    page.get_by_label("Picture (JPEG, PNG or WebP)").set_input_files(str(photo))
    page.get_by_label("Description for people who cannot see the picture (alt text)").fill(
        "Activists hold a rainbow banner")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The picture was saved.")).to_be_visible()


def test_an_editor_on_a_phone_publishes_a_photo_without_its_gps_coordinates(page: Page, served_app, tmp_path,
                                                                          artifacts_dir):
    campaign_id = _editor(served_app)
    _upload_on_phone(page, campaign_id, tmp_path)
    expect(page.locator(".image-preview img")).to_be_visible()
    page.screenshot(path=artifacts_dir / "admin-picture-phone.png", full_page=True)

    page.goto(f"/campaigns/{SLUG}")
    hero = page.locator("picture.hero img")
    expect(hero).to_have_attribute("alt", "Activists hold a rainbow banner")
    hero.evaluate("img => img.decode()")
    chosen = hero.evaluate("img => img.currentSrc")
    assert chosen.endswith("-480.webp") and "/media/" in chosen  # a phone gets the small candidate
    urls = set(re.findall(r"/media/[0-9a-f]{32}-\d+\.(?:webp|jpg)", page.content()))
    assert len(urls) == 6  # 480, 800 and 1200 wide, WebP and JPEG
    for url in urls:
        response = page.request.get(url)
        assert response.status == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        body = response.body()
        for needle in (b"Exif", b"GPS", b"PhoneMaker", b"Anna Secret Author", b"SERIAL-123456"):
            assert needle not in body, (url, needle)
        with Image.open(io.BytesIO(body)) as published:
            assert not published.getexif() and published.getexif().get_ifd(0x8825) == {}
            assert published.height > published.width  # turned upright before the EXIF went
    page.screenshot(path=artifacts_dir / "campaign-picture-phone.png")


def test_first_view_with_a_picture_stays_within_the_budget(page: Page, served_app, tmp_path):
    campaign_id = _editor(served_app)
    _upload_on_phone(page, campaign_id, tmp_path)
    with served_app.app_context():
        assert db.session.execute(sa.select(CampaignImage)).scalar_one().alt == "Activists hold a rainbow banner"
    context = page.context.browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                                               is_mobile=True, has_touch=True, locale="en-US",
                                               base_url=page.url.split("/admin")[0])
    fresh = context.new_page()
    sizes: dict[str, int] = {}
    fresh.on("requestfinished", lambda request: sizes.__setitem__(
        request.url, request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]))
    fresh.goto(f"/campaigns/{SLUG}")
    fresh.wait_for_load_state("networkidle")
    pictures = {url: n for url, n in sizes.items() if "/media/" in url}
    rest = sum(n for url, n in sizes.items() if "/media/" not in url)
    print(f"first view on a 390-px phone: HTML+CSS+JS {rest} bytes; pictures {pictures}")
    assert rest <= FIRST_VIEW_LIMIT
    assert len(pictures) == 1 and next(iter(pictures)).endswith("-480.webp")  # the hero only, small; cards wait
    assert sum(pictures.values()) <= HERO_LIMIT
    context.close()

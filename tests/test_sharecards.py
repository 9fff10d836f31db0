"""Share cards: every campaign page names a real 1200×630 card in its meta tags; cards are drawn on the site with
the bundled font, cached on disk and redrawn at most once per interval as the count moves."""

from __future__ import annotations

import io
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, ImageChops, ImageFont, ImageStat

from petition_app import images, sharecards
from petition_app.campaigns.queries import IS_PUBLIC
from petition_app.demo.loader import load_demo
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignImage
from tests.test_images import photo_with_gps


class Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (key := attrs.get("property") or attrs.get("name")):
            self.tags[key] = attrs.get("content", "")


def meta_of(html: str) -> dict[str, str]:
    parser = Meta()
    parser.feed(html)
    return parser.tags


def card_image(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def test_every_demo_campaign_page_points_to_its_own_real_card(app, client):
    load_demo()
    slugs = db.session.execute(sa.select(Campaign.slug).where(IS_PUBLIC).order_by(Campaign.id)).scalars().all()
    assert len(slugs) >= 5
    cards = {}
    for slug in slugs:
        tags = meta_of(client.get(f"/campaigns/{slug}").get_data(as_text=True))
        assert tags["twitter:card"] == "summary_large_image"
        assert tags["og:image"] == f"http://localhost/campaigns/{slug}/share-card.jpg"  # absolute (PUBLIC_URL)
        assert tags["twitter:image"] == tags["og:image"]
        assert (tags["og:image:width"], tags["og:image:height"], tags["og:image:type"]) == ("1200", "630",
                                                                                           "image/jpeg")
        assert tags["og:image:alt"]
        response = client.get(tags["og:image"].removeprefix("http://localhost"))
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert "Set-Cookie" not in response.headers
        image = card_image(response.data)
        assert image.size == (1200, 630) and image.format == "JPEG"
        # Not a placeholder: the title band holds white text on the background...
        title_band = image.convert("L").crop((64, 134, 1136, 300))
        lo, hi = title_band.getextrema()
        assert lo < 140 and hi > 230
        cards[slug] = image
    # ... and every card differs from every other.
    first = cards[slugs[0]]
    for slug in slugs[1:]:
        assert ImageChops.difference(first.convert("RGB"), cards[slug].convert("RGB")).getbbox() is not None


def test_the_card_shows_the_campaign_picture_when_there_is_one(app, client, make_campaign):
    campaign = make_campaign(title="A campaign with a picture")
    plain = card_image(client.get(f"/campaigns/{campaign.slug}/share-card.jpg").data)
    stored = images.store_bytes(photo_with_gps(orientation=1), "campaign")
    db.session.add(CampaignImage(campaign_id=campaign.id, alt="Red and blue stripes", name=stored.name,
                                 width=stored.width, height=stored.height, widths=stored.widths_text))
    db.session.commit()
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert meta_of(html)["og:image:alt"] == "Red and blue stripes"
    pictured = card_image(client.get(f"/campaigns/{campaign.slug}/share-card.jpg").data)
    # The plain card's background is the site's purple; the picture's stripes (darkened) replace it.
    corner = (1190, 300, 1200, 310)
    plain_colour = ImageStat.Stat(plain.crop(corner)).mean
    assert max(abs(a - b) for a, b in zip(plain_colour, sharecards.BRAND, strict=True)) < 12
    assert ImageChops.difference(plain.convert("RGB"), pictured.convert("RGB")).getbbox() is not None
    r, _g, b = ImageStat.Stat(pictured.crop((0, 250, 1200, 260))).mean
    assert r != pytest.approx(sharecards.BRAND[0], abs=12) or b != pytest.approx(sharecards.BRAND[2], abs=12)


def test_a_card_is_redrawn_at_most_once_per_interval_and_only_when_the_count_moved(app, client, make_campaign,
                                                                                monkeypatch):
    campaign = make_campaign(title="Counting campaign")
    drawn = []
    real_render = sharecards.render
    monkeypatch.setattr(sharecards, "render", lambda *a, **k: drawn.append(a[1]) or real_render(*a, **k))
    url = f"/campaigns/{campaign.slug}/share-card.jpg"
    app.config["SHARE_CARD_SECONDS"] = 3600
    first = client.get(url)
    assert client.get(url).data == first.data and drawn == [0]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"].strip('"')}).status_code == 304
    campaign.offline_count = 7
    db.session.commit()
    assert client.get(url).data == first.data and drawn == [0]  # within the interval: the same card
    app.config["SHARE_CARD_SECONDS"] = 0
    moved = client.get(url)
    assert drawn == [0, 7] and moved.data != first.data
    client.get(url)
    assert drawn == [0, 7]  # the count did not move: the card is kept, not redrawn
    folder = Path(app.config["MEDIA_DIR"]) / "cards"
    assert [p.name.rsplit("-", 1)[1] for p in folder.iterdir()] == ["7.jpg"]  # the old card is gone
    campaign.title = "Counting campaign, renamed"
    db.session.commit()
    app.config["SHARE_CARD_SECONDS"] = 3600
    client.get(url)
    assert drawn == [0, 7, 7]  # a new title draws a new card at once


def test_cards_in_another_language_use_its_words(app, client, make_campaign):
    campaign = make_campaign(title="Свобода собраний для всех", offline_count=1234)
    english = client.get(f"/campaigns/{campaign.slug}/share-card.jpg?lang=en").data
    russian = client.get(f"/campaigns/{campaign.slug}/share-card.jpg?lang=ru").data
    assert ImageChops.difference(card_image(english).convert("RGB"),
                                 card_image(russian).convert("RGB")).getbbox() is not None
    assert client.get(f"/campaigns/{campaign.slug}/share-card.jpg?lang=xx").status_code == 404


def test_the_bundled_font_draws_latin_and_cyrillic(app):
    font = ImageFont.truetype(str(sharecards.FONTS / "DejaVuSans-Bold.ttf"), 40)
    missing = font.getmask("\U000f0000").getbbox()  # a code point no font has: the "missing glyph" box
    for char in "AzÄéЖжЯяЁёЇїҐґ":
        assert font.getmask(char).getbbox() != missing, char
    assert (sharecards.FONTS / "LICENSE-DejaVu.txt").is_file()


def test_long_titles_are_wrapped_into_three_lines_at_most(app):
    font, lines = sharecards._fit_title("Слово " * 80, 1072)
    assert len(lines) == 3 and lines[2].endswith("…")
    assert all(font.getlength(line) <= 1072 for line in lines)
    _font, lines = sharecards._fit_title("A" * 200, 1072)  # one endless word is cut, not overflowing
    assert all(_font.getlength(line) <= 1072 for line in lines)


def test_concurrent_requests_all_get_a_whole_card(app, make_campaign):
    campaign = make_campaign(title="Busy campaign")
    slug = campaign.slug
    app.config["SHARE_CARD_SECONDS"] = 0
    results, errors = [], []

    def fetch():
        try:
            response = app.test_client().get(f"/campaigns/{slug}/share-card.jpg")
            results.append((response.status_code, card_image(response.data).size))
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [(200, (1200, 630))] * 6
    folder = Path(app.config["MEDIA_DIR"]) / "cards"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_a_draft_has_no_card(app, client, make_campaign):
    from petition_app.models import CampaignStatus

    campaign = make_campaign(status=CampaignStatus.DRAFT)
    assert client.get(f"/campaigns/{campaign.slug}/share-card.jpg").status_code == 404
    assert not re.search(r"share-card", client.get("/").get_data(as_text=True))

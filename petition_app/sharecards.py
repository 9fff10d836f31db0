"""Share cards: the 1200×630 picture a link to a campaign unfurls with (Open Graph, Twitter), drawn on the site.

A card shows the campaign's picture when it has one, its title, its organisation and its signature count, in
DejaVu Sans (bundled: Latin, Cyrillic, Greek). Cards are kept under MEDIA_DIR/cards, one file per campaign,
language, version (content, picture) and count: a request within SHARE_CARD_SECONDS of the last drawing serves
that file without counting, so a card is redrawn at most once per interval however often it is fetched, and only
when the count or the content moved. Files are written to a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, format_number, ngettext
from PIL import Image, ImageDraw, ImageFont

from petition_app import images

WIDTH, HEIGHT = 1200, 630
MIME = "image/jpeg"
FONTS = Path(__file__).parent / "fonts"
BRAND = (91, 42, 134)  # the site's purple (#5b2a86)
WHITE = (255, 255, 255)
MARGIN = 64


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of at most `width` pixels, broken between words (a word longer than a line is cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:
            cut = max(1, next(i for i in range(len(word), 0, -1) if font.getlength(word[:i]) <= width))
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _fit_title(title: str, width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest title size whose wrapped lines fit in three; past that, the third line ends in an ellipsis."""
    for size in (68, 60, 52, 46):
        font = _font(size, bold=True)
        lines = wrap(title, font, width)
        if len(lines) <= 3:
            return font, lines
    lines = lines[:3]
    while lines[2] and font.getlength(lines[2] + "…") > width:
        lines[2] = lines[2][:-1].rstrip()
    lines[2] += "…"
    return font, lines


def _background(campaign) -> Image.Image:
    card = Image.new("RGB", (WIDTH, HEIGHT), BRAND)
    image = getattr(campaign, "image", None)
    path = images.media_dir() / images.file_name(image.name, image.width_list[-1], "jpg") if image else None
    if path is None or not path.is_file():
        return card
    with Image.open(path) as photo:
        photo = photo.convert("RGB")
        # Cover the card, centred; then darken it from the bottom so white text stays readable (WCAG AA).
        scale = max(WIDTH / photo.width, HEIGHT / photo.height)
        size = (max(WIDTH, round(photo.width * scale)), max(HEIGHT, round(photo.height * scale)))
        photo = photo.resize(size, Image.Resampling.LANCZOS)
        left, top = (size[0] - WIDTH) // 2, (size[1] - HEIGHT) // 2
        card.paste(photo.crop((left, top, left + WIDTH, top + HEIGHT)))
    shade = Image.new("L", (1, HEIGHT))
    for y in range(HEIGHT):
        shade.putpixel((0, y), 120 + int(100 * y / HEIGHT))
    card.paste(Image.new("RGB", (WIDTH, HEIGHT), (20, 10, 30)), mask=shade.resize((WIDTH, HEIGHT)))
    return card


def render(campaign, count: int, lang: str, site_name: str) -> bytes:
    """The card's JPEG bytes."""
    card = _background(campaign)
    draw = ImageDraw.Draw(card)
    text_width = WIDTH - 2 * MARGIN
    small = _font(32)
    organisation = wrap(campaign.organisation.name, small, text_width)[:1]
    draw.text((MARGIN, MARGIN), organisation[0] if organisation else "", font=small, fill=WHITE)
    title_font, lines = _fit_title(campaign.title, text_width)
    line_height = round(title_font.size * 1.2)
    y = MARGIN + 70
    for line in lines:
        draw.text((MARGIN, y), line, font=title_font, fill=WHITE)
        y += line_height
    with force_locale(lang):  # the counter's own words, so every language the site speaks has them
        signed = f"{format_number(count)} {ngettext('person has signed', 'people have signed', count)}"
    count_font = _font(44, bold=True)
    draw.text((MARGIN, HEIGHT - MARGIN - 44 - 50), signed, font=count_font, fill=WHITE)
    draw.text((MARGIN, HEIGHT - MARGIN - 32), site_name, font=small, fill=WHITE)
    out = io.BytesIO()
    card.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def _folder() -> Path:
    folder = images.media_dir() / "cards"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def version(campaign, lang: str, site_name: str) -> str:
    """What a card shows apart from the count: a change draws a new card at once."""
    image = getattr(campaign, "image", None)
    parts = (campaign.title, campaign.organisation.name, site_name, lang, image.name if image else "")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def share_card(campaign, count_of, lang: str | None = None) -> Path:
    """The path of a campaign's current card in `lang` (the campaign's own language by default). `count_of` is
    called for the count only when the last card is older than SHARE_CARD_SECONDS."""
    lang = lang or campaign.language
    site_name = current_app.config["SITE_NAME"]
    folder = _folder()
    stem = f"{campaign.id}-{lang}-{version(campaign, lang, site_name)}"
    existing = sorted(((_mtime(p), p) for p in folder.glob(f"{campaign.id}-{lang}-*.jpg")), reverse=True)
    current = [(at, p) for at, p in existing if p.name.startswith(stem + "-")]
    if current and time.time() - current[0][0] < current_app.config["SHARE_CARD_SECONDS"]:
        return current[0][1]
    count = int(count_of())
    target = folder / f"{stem}-{count}.jpg"
    if target.is_file():
        os.utime(target)  # the count has not moved: this card is good for another interval
    else:
        images.write_atomically(target, render(campaign, count, lang, site_name))
    for _at, old in existing:
        if old != target:
            old.unlink(missing_ok=True)
    return target


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # replaced by another worker meanwhile
        return 0.0


def forget(campaign_id: int) -> None:
    """Drop a campaign's cards (its picture or title changed, or it was deleted)."""
    folder = images.media_dir() / "cards"
    for path in folder.glob(f"{campaign_id}-*.jpg"):
        path.unlink(missing_ok=True)

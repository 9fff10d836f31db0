"""The site logo: uploaded in the site settings, decoded and re-encoded as PNG (no metadata block survives), and
served by the site itself under a content-hashed name.

The PNG is kept in the database (a site setting), so backups hold it and every app server can serve it; each
server writes it once to instance/site/ and serves the file from there."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, url_for
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from petition_app import images, site_settings

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 25_000_000  # checked from the header, before anything is decoded (decompression bombs)
BOX = (640, 160)  # the largest stored size: shown 2rem high, sharp on a phone's 3x screen
FORMATS = {"PNG", "JPEG", "WEBP"}
NAME = re.compile(r"^logo-[0-9a-f]{16}\.png$")


class LogoError(ValueError):
    """An upload that is not a usable logo; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class Logo:
    name: str
    width: int
    height: int

    @property
    def url(self) -> str:
        return url_for("pages.site_logo_file", name=self.name)


def directory() -> Path:
    return Path(current_app.instance_path) / "site"


def parse(value: str) -> Logo | None:
    """The logo of a setting value "name WIDTHxHEIGHT", or None."""
    match = re.fullmatch(r"(logo-[0-9a-f]{16}\.png) (\d{1,4})x(\d{1,4})", value or "")
    return Logo(match[1], int(match[2]), int(match[3])) if match else None


def reencode(data: bytes) -> tuple[str, bytes]:
    """Re-encode an uploaded JPEG, PNG or WebP as a PNG no larger than BOX; returns the setting value
    "name WIDTHxHEIGHT" and the PNG's bytes. Anything else raises LogoError."""
    if not data:
        raise LogoError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise LogoError(_("The file is larger than 2 MB."))
    try:
        with warnings.catch_warnings():
            # Pillow only warns about an image between its pixel limit and twice that: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            if image.format not in FORMATS:
                raise LogoError(_("Upload a JPEG, PNG or WebP image."))
            if image.width * image.height > MAX_PIXELS:
                raise LogoError(_("The image has too many pixels."))
            image.load()
            picture = ImageOps.exif_transpose(image).convert("RGBA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoError(_("The image has too many pixels.")) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        if isinstance(error, LogoError):
            raise
        raise LogoError(_("This file is not an image the site can read. Upload a JPEG, PNG or WebP image.")) from None
    picture.thumbnail(BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=True)  # a new file: only pixels, no EXIF, XMP, ICC or text chunks
    body = out.getvalue()
    return f"{_name(body)} {picture.width}x{picture.height}", body


def _name(body: bytes) -> str:
    return f"logo-{hashlib.sha256(body).hexdigest()[:16]}.png"


def settings_values(data: bytes) -> dict[tuple[str, str], str]:
    """The site settings that hold an uploaded logo (see site_settings.save)."""
    value, body = reencode(data)
    return {("logo", ""): value, ("logo_png", ""): base64.b64encode(body).decode()}


def file_for(name: str) -> Path | None:
    """The stored logo's file on this server, written from the database the first time; None if unknown."""
    path = directory() / name
    if path.exists():
        return path
    encoded = site_settings.stored_logo_png()
    body = base64.b64decode(encoded) if encoded else b""
    if not body or _name(body) != name:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    images.write_atomically(path, body)
    return path

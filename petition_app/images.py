"""Uploaded pictures: decoded, checked and re-encoded, never stored as sent.

A photo of a protest can carry GPS coordinates, a camera serial and an author's name in its metadata; a file
named .jpg can be a script, a ZIP or a decompression bomb. So an upload is decoded with Pillow (JPEG, PNG or WebP
only, size and pixel limits, truncation refused), turned upright by its EXIF orientation, and its pixels alone are
copied into a new image, which is then encoded afresh in a few widths as WebP and JPEG. Nothing of the upload's
bytes (metadata blocks, colour profile, text chunks, trailing data, further animation frames) reaches the disk.

Files are named by the hash of the clean pixels (`<name>-<width>.webp|.jpg` under MEDIA_DIR), served for a year
as immutable, and deleted once no row names them (`release`).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, current_app, has_app_context, request, send_from_directory
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

IMMUTABLE = "public, max-age=31536000, immutable"
FORMATS = ("JPEG", "PNG", "WEBP")
# Widths stored for each kind of picture (never wider than the upload).
KINDS: dict[str, tuple[int, ...]] = {
    "campaign": (480, 800, 1200),
    "logo": (128, 256),
}
QUALITY = {"webp": 72, "jpg": 78}
FILE_NAME = re.compile(r"^(?P<name>[0-9a-f]{32})-(?P<width>[0-9]{1,4})\.(?P<ext>webp|jpg)$")
# Files at most this much larger than IMAGE_MAX_BYTES still reach the form and get its clear message.
UPLOAD_OVERHEAD = 64 * 1024


class ImageRefused(ValueError):
    """An upload that is not a picture we publish; the message is for the person who sent it."""


@dataclass(frozen=True)
class StoredImage:
    """A re-encoded picture on disk: `<name>-<w>.webp` and `<name>-<w>.jpg` for every w in `widths`."""

    name: str
    kind: str
    width: int  # of the largest variant
    height: int
    widths: tuple[int, ...]

    @property
    def widths_text(self) -> str:
        return ",".join(str(w) for w in self.widths)


def media_dir() -> Path:
    return Path(current_app.config["MEDIA_DIR"])


def file_name(name: str, width: int, ext: str) -> str:
    return f"{name}-{width}.{ext}"


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in text[:2048]


def decode(data: bytes, max_pixels: int) -> Image.Image:
    """The upload's first frame as upright RGB pixels with no metadata, or ImageRefused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data), formats=FORMATS)
            if source.width * source.height > max_pixels:
                raise ImageRefused(_l("This picture has too many pixels (at most %(mp)s megapixels): please "
                                      "upload a smaller one.", mp=max_pixels // 1_000_000))
            if source.format == "JPEG":  # decode at a reduced scale when the picture is far larger than we keep
                source.draft("RGB", (2400, 2400))
            source.seek(0)  # an animated PNG or WebP: its first frame only
            source.load()
            upright = ImageOps.exif_transpose(source)
            pixels = _to_srgb(upright, source.info.get("icc_profile"))
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused(_l("This picture has too many pixels: please upload a smaller one.")) from error
    except UnidentifiedImageError as error:
        if _looks_like_svg(data[:4096]):
            raise ImageRefused(_l("SVG files are not accepted: please upload a JPEG, PNG or WebP picture.")) from error
        raise ImageRefused(_l("This file is not a JPEG, PNG or WebP picture.")) from error
    except Exception as error:  # noqa: BLE001  (truncated or corrupt data: decoders raise many kinds of error)
        raise ImageRefused(_l("This picture is damaged or incomplete: please upload it again.")) from error
    # A new image holding the pixels only: no info dictionary, EXIF, XMP, ICC profile or text chunk comes along.
    clean = Image.new("RGB", pixels.size, (255, 255, 255))
    clean.paste(pixels, mask=pixels.getchannel("A") if pixels.mode == "RGBA" else None)
    return clean


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA pixels, converted to sRGB when the upload carries another colour profile (then dropped)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: keep the pixels as they are
    return image


def _widths(kind: str, width: int) -> tuple[int, ...]:
    wanted = KINDS[kind]
    kept = tuple(w for w in wanted if w <= width)
    return kept or (width,)


def encode(clean: Image.Image, width: int) -> dict[str, bytes]:
    """The picture at this width as WebP and JPEG bytes."""
    height = max(1, round(clean.height * width / clean.width))
    resized = clean if width == clean.width else clean.resize((width, height), Image.Resampling.LANCZOS)
    webp, jpeg = io.BytesIO(), io.BytesIO()
    resized.save(webp, "WEBP", quality=QUALITY["webp"], method=4)
    resized.save(jpeg, "JPEG", quality=QUALITY["jpg"], optimize=True, progressive=True)
    return {"webp": webp.getvalue(), "jpg": jpeg.getvalue()}


def read_upload(file_storage, max_bytes: int) -> bytes:
    """The uploaded bytes, or ImageRefused when there are none or too many."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise ImageRefused(_l("Choose a picture to upload."))
    data = file_storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRefused(_l("This file is too large (at most %(mb)s MB): please upload a smaller picture.",
                              mb=max_bytes // (1024 * 1024)))
    if not data:
        raise ImageRefused(_l("This file is empty."))
    return data


def store_image(file_storage, kind: str) -> StoredImage:
    """Check, re-encode and store an upload (a werkzeug FileStorage) as a picture of this kind ("campaign",
    "logo"): its files are all written or none is. Raises ImageRefused with a message for the form."""
    if kind not in KINDS:
        raise ValueError(f"unknown image kind {kind!r}")
    data = read_upload(file_storage, current_app.config["IMAGE_MAX_BYTES"])
    return store_bytes(data, kind)


def store_bytes(data: bytes, kind: str) -> StoredImage:
    """store_image for bytes already in hand (demo data, the command line)."""
    clean = decode(data, current_app.config["IMAGE_MAX_PIXELS"])
    widths = _widths(kind, clean.width)
    if clean.width > widths[-1]:  # keep no more pixels than the largest variant needs
        clean = clean.resize((widths[-1], max(1, round(clean.height * widths[-1] / clean.width))),
                             Image.Resampling.LANCZOS, reducing_gap=3.0)
    digest = hashlib.sha256(f"{clean.width}x{clean.height}:".encode() + clean.tobytes()).hexdigest()[:32]
    folder = media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for width in widths:
            for ext, body in encode(clean, width).items():
                target = folder / file_name(digest, width, ext)
                if not target.exists():
                    write_atomically(target, body)
                    written.append(target)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return StoredImage(name=digest, kind=kind, width=clean.width, height=clean.height, widths=widths)


def write_atomically(target: Path, body: bytes) -> None:
    """Write a file readers never see half-written (a temporary file beside it, then a rename)."""
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".write-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# -- references and clean-up ----------------------------------------------------------------------------------------

# Other tables that name pictures register a function answering "is this name still used?" (e.g. a site logo).
_reference_checks: list[Callable[[str], bool]] = []


def register_reference(check: Callable[[str], bool]) -> None:
    _reference_checks.append(check)


def is_referenced(name: str, connection=None) -> bool:
    """Whether a row names the picture (read through `connection` when given, else the session)."""
    from sqlalchemy import select

    from petition_app.extensions import db
    from petition_app.models import CampaignImage, OrganisationLogo

    execute = (connection or db.session).execute
    for model in (CampaignImage, OrganisationLogo):
        if execute(select(model.name).where(model.name == name).limit(1)).first():
            return True
    return any(check(name) for check in _reference_checks)


def release(name: str | None, connection=None) -> int:
    """Delete a picture's files if no row names it any more (call after the commit that dropped the last one)."""
    if not name or not re.fullmatch(r"[0-9a-f]{32}", name) or is_referenced(name, connection):
        return 0
    removed = 0
    for path in media_dir().glob(f"{name}-*"):
        if FILE_NAME.match(path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# Files to release once the transaction ends: the replaced picture's after a commit, the new picture's after a
# rollback (it was written before the transaction and no committed row names it). The session can run no SQL in
# these events, so the check that nothing names the files reads through a connection of its own.
_AFTER_COMMIT = "pictures_released_after_commit"
_AFTER_ROLLBACK = "pictures_released_after_rollback"


def release_after_commit(name: str | None) -> None:
    """Release the picture's files once the current transaction commits (the old picture of a change)."""
    from petition_app.extensions import db

    if name:
        db.session.info.setdefault(_AFTER_COMMIT, set()).add(name)


def release_after_rollback(name: str | None) -> None:
    """Release the picture's files if the current transaction rolls back (the new picture of a change)."""
    from petition_app.extensions import db

    if name:
        db.session.info.setdefault(_AFTER_ROLLBACK, set()).add(name)


def _release_all(names: set[str] | None) -> None:
    from petition_app.extensions import db

    if names and has_app_context():
        with db.engine.connect() as connection:
            for name in sorted(names):
                release(name, connection)


def _release_after_commit(session) -> None:
    session.info.pop(_AFTER_ROLLBACK, None)
    _release_all(session.info.pop(_AFTER_COMMIT, None))


def _release_after_rollback(session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
    _release_all(session.info.pop(_AFTER_ROLLBACK, None))


def prune() -> int:
    """Delete every stored picture file that no row names (after a crash between writing files and committing)."""
    names = {m.group("name") for p in media_dir().glob("*-*") if (m := FILE_NAME.match(p.name))}
    return sum(release(name) for name in sorted(names))


# -- serving --------------------------------------------------------------------------------------------------------

def _serve_media(filename: str):
    if not FILE_NAME.match(filename):
        abort(404)
    response = send_from_directory(media_dir(), filename, max_age=31536000, conditional=True, etag=True)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def media_url(name: str, width: int, ext: str) -> str:
    from flask import url_for

    return url_for("media", filename=file_name(name, width, ext))


# Endpoints that receive a picture: their requests may be as large as IMAGE_MAX_BYTES (plus the form's fields).
UPLOAD_ENDPOINTS: set[str] = set()


def _allow_large_upload() -> None:
    if request.method == "POST" and request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["IMAGE_MAX_BYTES"] + UPLOAD_OVERHEAD


_listening = False


def init_app(app: Flask) -> None:
    global _listening
    if not _listening:  # the events are on the Session class: once per process, whatever the number of apps
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.listen(Session, "after_commit", _release_after_commit)
        event.listen(Session, "after_rollback", _release_after_rollback)
        _listening = True
    app.add_url_rule("/media/<filename>", "media", _serve_media)
    # First of all before-request functions: the CSRF check reads the form, and with it the whole body.
    app.before_request_funcs.setdefault(None, []).insert(0, _allow_large_upload)

    @app.cli.command("prune-media")
    def prune_media_command() -> None:
        """Delete stored picture files that no campaign or organisation uses."""
        import click

        click.echo(f"{prune()} files deleted.")

    @app.template_global()
    def image_srcset(image, ext: str, max_width: int | None = None) -> str:
        widths = [w for w in image.width_list if max_width is None or w <= max_width] or image.width_list[:1]
        return ", ".join(f"{media_url(image.name, w, ext)} {w}w" for w in widths)

    @app.template_global()
    def image_url(image, ext: str = "jpg", width: int | None = None) -> str:
        widths = image.width_list
        chosen = min((w for w in widths if w >= width), default=widths[-1]) if width else widths[-1]
        return media_url(image.name, chosen, ext)

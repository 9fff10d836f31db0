"""Uploaded pictures: re-encoded without metadata, hostile files refused, stored by content hash, served immutable,
shown on the public pages, replaced and removed cleanly, kept in backups."""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, PngImagePlugin
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from petition_app import images
from petition_app.extensions import db
from petition_app.models import AuditEntry, CampaignImage, OrganisationLogo, Role
from tests.conftest import ON_POSTGRES, csrf_token, log_in, make_org, make_user

GPS_LATITUDE = 2


def photo_with_gps(width=1600, height=1000, orientation=6, fmt="JPEG") -> bytes:
    """A photo as a phone writes it: EXIF with GPS coordinates, camera serial, author; rotated by EXIF."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(0, width, 40):  # some structure, so the encoders have work to do
        image.paste((30, 30, 200), (x, 0, x + 20, height // 2))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x013B] = "Anna Secret Author"  # Artist
    exif[0x0112] = orientation  # Orientation: 6 = rotate 90° clockwise to display
    exif[0xA431] = "SERIAL-123456"  # BodySerialNumber (Exif IFD in practice; top level is fine for the test)
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[GPS_LATITUDE] = (55.0, 45.0, 21.0)
    gps[3] = "E"
    gps[4] = (37.0, 37.0, 4.0)
    out = io.BytesIO()
    icc = b"\x00" * 128  # a (broken) colour profile block: must not survive either
    image.save(out, fmt, exif=exif, **({"icc_profile": icc} if fmt == "JPEG" else {}))
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Anna Secret Author")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPSLatitude 55,45</x:xmpmeta>")
    out = io.BytesIO()
    Image.new("RGBA", (600, 400), (0, 128, 0, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


class Upload(io.BytesIO):
    """A werkzeug FileStorage stand-in: a name and a stream."""

    def __init__(self, data: bytes, filename: str = "photo.jpg"):
        super().__init__(data)
        self.filename = filename
        self.stream = self


def stored_files(app, stored) -> list[Path]:
    return sorted(Path(app.config["MEDIA_DIR"]).glob(f"{stored.name}-*"))


def assert_no_metadata(path: Path) -> None:
    data = path.read_bytes()
    for needle in (b"Exif", b"GPS", b"PhoneMaker", b"Anna Secret Author", b"SERIAL-123456", b"xmpmeta",
                   b"ICC_PROFILE", b"tEXt", b"iTXt"):
        assert needle not in data, (path.name, needle)
    with Image.open(path) as image:
        assert not image.getexif(), path.name
        assert image.getexif().get_ifd(0x8825) == {}
        assert "icc_profile" not in image.info and "exif" not in image.info and "xmp" not in image.info


# -- the re-encoding ------------------------------------------------------------------------------------------------

def test_a_phone_photo_is_stored_upright_without_any_metadata(app):
    stored = images.store_image(Upload(photo_with_gps()), "campaign")
    files = stored_files(app, stored)
    # 1000×1600 once turned upright: widths 480 and 800 (1200 would be wider than the photo), WebP and JPEG each.
    assert [p.name.split("-", 1)[1] for p in files] == ["480.jpg", "480.webp", "800.jpg", "800.webp"]
    assert (stored.width, stored.height) == (800, 1280)
    for path in files:
        assert_no_metadata(path)
        with Image.open(path) as image:
            assert image.height > image.width  # the EXIF orientation was applied before it was dropped
            assert image.format == ("WEBP" if path.suffix == ".webp" else "JPEG")
    assert re.fullmatch(r"[0-9a-f]{32}", stored.name)


def test_png_text_chunks_and_xmp_are_dropped_and_transparency_becomes_white(app):
    stored = images.store_image(Upload(png_with_text(), "logo.png"), "logo")
    assert stored.widths == (128, 256)
    for path in stored_files(app, stored):
        assert_no_metadata(path)
        with Image.open(path) as image:
            r, g, b = image.convert("RGB").getpixel((10, 10))[:3]
            assert r > 100 and g > 150 and b > 100  # half-transparent green over white


def test_webp_exif_is_dropped(app):
    stored = images.store_image(Upload(photo_with_gps(fmt="WEBP", orientation=1), "photo.webp"), "campaign")
    for path in stored_files(app, stored):
        assert_no_metadata(path)


def test_the_same_picture_twice_is_stored_once_under_the_same_name(app):
    first = images.store_image(Upload(photo_with_gps()), "campaign")
    second = images.store_image(Upload(photo_with_gps()), "campaign")
    assert first == second
    assert len(list(Path(app.config["MEDIA_DIR"]).glob("*"))) == 4


def test_a_polyglot_keeps_only_the_picture(app):
    body = photo_with_gps(orientation=1)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("evil.html", "<html><script>alert(1)</script></html>")
    hostile = body + archive.getvalue() + b"<html><script>alert(2)</script></html>"
    stored = images.store_image(Upload(hostile), "campaign")
    for path in stored_files(app, stored):
        data = path.read_bytes()
        assert b"PK\x03\x04" not in data and b"<script" not in data and b"<html" not in data
        if path.suffix == ".jpg":
            assert data.endswith(b"\xff\xd9")  # the encoder's end of image is the end of the file
        else:
            assert int.from_bytes(data[4:8], "little") + 8 == len(data)  # the RIFF length covers the whole file


def test_an_animated_png_keeps_its_first_frame(app):
    frames = [Image.new("RGB", (500, 300), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    stored = images.store_image(Upload(out.getvalue(), "a.png"), "campaign")
    with Image.open(stored_files(app, stored)[0]) as image:
        assert getattr(image, "n_frames", 1) == 1
        r, _g, b = image.convert("RGB").getpixel((250, 150))
        assert r > 200 and b < 60


def _refused(data: bytes, filename: str = "x.jpg") -> str:
    with pytest.raises(images.ImageRefused) as refused:
        images.store_image(Upload(data, filename), "campaign")
    from flask import current_app

    with current_app.test_request_context():  # the message is translated for the request's language
        return str(refused.value)


@pytest.mark.parametrize("data, message", [
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
    (b'<svg onload="alert(1)"/>', "SVG"),
    (b"GIF89a" + b"\x00" * 100, "not a JPEG, PNG or WebP"),
    (b"PK\x03\x04 a zip file, named .jpg", "not a JPEG, PNG or WebP"),
    (b"<html><body>hello</body></html>", "not a JPEG, PNG or WebP"),
    (b"", "empty"),
])
def test_files_that_are_not_pictures_are_refused_with_a_clear_message(app, data, message):
    assert message in _refused(data)
    assert not list(Path(app.config["MEDIA_DIR"]).glob("*-*"))


def test_a_truncated_picture_is_refused(app):
    data = photo_with_gps(orientation=1)
    assert "damaged or incomplete" in _refused(data[: len(data) // 2])


def test_a_gif_is_refused_even_when_named_jpg(app):
    out = io.BytesIO()
    Image.new("RGB", (100, 100)).save(out, "GIF")
    assert "not a JPEG, PNG or WebP" in _refused(out.getvalue())


def test_a_decompression_bomb_is_refused_before_it_is_decoded(app):
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # 144 megapixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    assert "too many pixels" in _refused(out.getvalue(), "bomb.png")


def test_pixel_limit_is_configurable(app):
    app.config["IMAGE_MAX_PIXELS"] = 1_000_000
    assert "too many pixels" in _refused(photo_with_gps(orientation=1))


def test_a_file_above_the_byte_limit_is_refused(app):
    app.config["IMAGE_MAX_BYTES"] = 10_000
    assert "too large" in _refused(photo_with_gps(orientation=1))


def test_nothing_is_left_on_disk_when_writing_fails(app, monkeypatch):
    calls = []

    def fail_on_third(target, body):
        calls.append(target)
        if len(calls) == 3:
            raise OSError("disk full")
        target.write_bytes(body)

    monkeypatch.setattr(images, "write_atomically", fail_on_third)
    with pytest.raises(OSError):
        images.store_image(Upload(photo_with_gps()), "campaign")
    assert not [p for p in Path(app.config["MEDIA_DIR"]).iterdir() if p.is_file()]


def test_unknown_kind_is_a_programming_error(app):
    with pytest.raises(ValueError, match="unknown image kind"):
        images.store_image(Upload(photo_with_gps()), "banner")


# -- the admin pages ------------------------------------------------------------------------------------------------

@pytest.fixture
def editor(app, make_campaign):
    org = make_org("img-org", "Image Org")
    campaign = make_campaign(org=org, title="Pictures campaign")
    make_user("editor@example.org", (org, Role.EDITOR))
    make_user("owner@example.org", (org, Role.OWNER))
    make_user("viewer@example.org", (org, Role.VIEWER))
    return log_in(app, "editor@example.org"), campaign, org


def _post_picture(client, campaign, data: bytes | None, alt="Activists hold a banner", filename="photo.jpg"):
    path = f"/admin/campaigns/{campaign.id}/image"
    form = {"csrf_token": csrf_token(client, path), "alt": alt}
    if data is not None:
        form["picture"] = (io.BytesIO(data), filename)
    return client.post(path, data=form, content_type="multipart/form-data")


def test_an_editor_uploads_a_picture_and_the_public_page_shows_it_stripped(app, editor):
    client, campaign, _org = editor
    app.config["PAGE_CACHE_SECONDS"] = 60
    public = app.test_client()
    assert "<picture" not in public.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)  # now cached

    response = _post_picture(client, campaign, photo_with_gps())
    assert response.status_code == 303, response.get_data(as_text=True)
    row = db.session.execute(sa.select(CampaignImage)).scalar_one()
    assert row.alt == "Activists hold a banner" and row.campaign_id == campaign.id

    page = public.get(f"/campaigns/{campaign.slug}")  # the cached page was dropped with the commit
    html = page.get_data(as_text=True)
    hero = re.search(r'<picture class="hero">(.*?)</picture>', html, re.S).group(1)
    assert 'type="image/webp"' in hero and 'alt="Activists hold a banner"' in hero
    assert 'width="800" height="1280"' in hero and 'loading="lazy"' not in hero
    urls = re.findall(r"(/media/[0-9a-f]{32}-\d+\.(?:webp|jpg))", hero)
    assert len(set(urls)) == 4
    for url in set(urls):
        served = public.get(url)
        assert served.status_code == 200
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert served.mimetype in ("image/webp", "image/jpeg")
        assert "Set-Cookie" not in served.headers
        path = Path(app.config["MEDIA_DIR"]) / url.rsplit("/", 1)[1]
        assert served.data == path.read_bytes()
        assert_no_metadata(path)
    audit = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "campaign picture set")).scalar_one()
    assert audit.actor == "editor@example.org" and audit.detail == row.name


def test_the_home_page_and_more_actions_show_small_lazy_pictures(app, editor, make_campaign):
    client, campaign, org = editor
    other = make_campaign(org=org, title="Another campaign")
    assert _post_picture(client, campaign, photo_with_gps()).status_code == 303
    home = app.test_client().get("/").get_data(as_text=True)
    card = re.search(r'<picture class="card-picture">(.*?)</picture>', home, re.S).group(1)
    assert 'loading="lazy"' in card and "-480.jpg" in card
    actions = app.test_client().get(f"/campaigns/{other.slug}").get_data(as_text=True)
    listed = re.search(r'<picture class="action-picture">(.*?)</picture>', actions, re.S).group(1)
    assert 'loading="lazy"' in listed and 'alt=""' in listed


def test_alt_text_is_required(app, editor):
    client, campaign, _org = editor
    response = _post_picture(client, campaign, photo_with_gps(), alt="")
    assert response.status_code == 422
    assert db.session.execute(sa.select(CampaignImage)).first() is None
    assert not list(Path(app.config["MEDIA_DIR"]).glob("*-*"))


def test_a_hostile_upload_gets_a_form_error_and_changes_nothing(app, editor):
    client, campaign, _org = editor
    response = _post_picture(client, campaign, b"<svg onload='alert(1)'/>", filename="x.jpg")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="picture-error"' in html and "SVG files are not accepted" in html
    assert db.session.execute(sa.select(CampaignImage)).first() is None


def test_an_upload_larger_than_the_form_limit_but_within_the_picture_limit_is_accepted(app, editor):
    client, campaign, _org = editor
    noise = Image.frombytes("RGB", (900, 700), random.Random(1).randbytes(900 * 700 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    assert len(out.getvalue()) > app.config["MAX_CONTENT_LENGTH"]
    path = f"/admin/campaigns/{campaign.id}/image"
    # The body encoded here, in memory: the test client would spool it to a temporary file it never closes.
    boundary, body = encode_multipart({"csrf_token": csrf_token(client, path), "alt": "Noise",
                                       "picture": FileStorage(io.BytesIO(out.getvalue()), "big.png")})
    response = client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303


def test_an_upload_above_the_picture_limit_gets_a_form_error_not_a_crash(app, editor):
    client, campaign, _org = editor
    app.config["IMAGE_MAX_BYTES"] = 20_000
    data = photo_with_gps(400, 300)
    response = _post_picture(client, campaign, data + b"\x00" * (30_000 - len(data)))
    assert response.status_code == 422
    assert "too large" in response.get_data(as_text=True)
    other = app.test_client()  # and a body well past it: the site's "too much data" page
    log_in(other, "editor@example.org")
    token = csrf_token(other, f"/admin/campaigns/{campaign.id}/image")
    huge = other.post(f"/admin/campaigns/{campaign.id}/image", content_type="multipart/form-data",
                      data={"csrf_token": token, "alt": "x", "picture": (io.BytesIO(b"\x00" * 200_000), "a.jpg")})
    assert huge.status_code == 413


def test_replacing_and_removing_a_picture_deletes_files_nothing_uses(app, editor, make_campaign):
    client, campaign, org = editor
    media = Path(app.config["MEDIA_DIR"])
    assert _post_picture(client, campaign, photo_with_gps()).status_code == 303
    first = db.session.execute(sa.select(CampaignImage.name)).scalar_one()
    # Another campaign uses the same picture: replacing it on the first one keeps its files.
    twin = make_campaign(org=org, title="Twin")
    assert _post_picture(client, twin, photo_with_gps()).status_code == 303
    assert _post_picture(client, campaign, photo_with_gps(orientation=1)).status_code == 303
    db.session.expire_all()
    second = db.session.get(CampaignImage, campaign.id).name
    assert second != first and list(media.glob(f"{first}-*")) and list(media.glob(f"{second}-*"))
    # Only the twin used `first`: removing its picture deletes those files.
    token = csrf_token(client, f"/admin/campaigns/{twin.id}/image")
    assert client.post(f"/admin/campaigns/{twin.id}/image/remove", data={"csrf_token": token}).status_code == 303
    assert not list(media.glob(f"{first}-*"))
    assert len(list(media.glob(f"{second}-*"))) == 6  # 480, 800 and 1200 wide
    # Changing only the description keeps the picture.
    assert _post_picture(client, campaign, None, alt="A new description").status_code == 303
    db.session.expire_all()
    assert db.session.get(CampaignImage, campaign.id).alt == "A new description"
    actions = db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions.count("campaign picture set") == 3 and "campaign picture removed" in actions
    assert "campaign picture description changed" in actions


def test_a_picture_whose_commit_fails_leaves_no_files_behind_and_the_old_one_stays(app, editor):
    client, campaign, _org = editor
    media = Path(app.config["MEDIA_DIR"])
    assert _post_picture(client, campaign, photo_with_gps()).status_code == 303
    first = db.session.execute(sa.select(CampaignImage.name)).scalar_one()
    path = f"/admin/campaigns/{campaign.id}/image"
    form = {"csrf_token": csrf_token(client, path), "alt": "Another picture",
            "picture": (io.BytesIO(photo_with_gps(orientation=1)), "photo.jpg")}

    def refuse(session):
        raise RuntimeError("the database refused the commit")

    sa.event.listen(Session, "before_commit", refuse)
    try:
        assert client.post(path, data=form, content_type="multipart/form-data").status_code == 500
    finally:
        sa.event.remove(Session, "before_commit", refuse)
    db.session.expire_all()
    assert db.session.execute(sa.select(CampaignImage.name, CampaignImage.alt)).one() == (
        first, "Activists hold a banner")
    names = {p.name.split("-")[0] for p in media.glob("*-*")}
    assert names == {first}  # the new picture's files were written, then deleted with the rollback


def test_a_viewer_may_not_upload_and_the_pages_answer_404(app, editor):
    _client, campaign, org = editor
    viewer = log_in(app, "viewer@example.org")
    assert viewer.get(f"/admin/campaigns/{campaign.id}/image").status_code == 404
    assert viewer.get(f"/admin/orgs/{org.slug}/logo").status_code == 404


def test_an_owner_uploads_a_logo_shown_on_the_campaign_page(app, editor):
    _client, campaign, org = editor
    owner = log_in(app, "owner@example.org")
    path = f"/admin/orgs/{org.slug}/logo"
    response = owner.post(path, content_type="multipart/form-data",
                          data={"csrf_token": csrf_token(owner, path),
                                "picture": (io.BytesIO(png_with_text()), "logo.png")})
    assert response.status_code == 303, response.get_data(as_text=True)
    logo = db.session.execute(sa.select(OrganisationLogo)).scalar_one()
    html = app.test_client().get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    block = re.search(r'<picture class="org-logo">(.*?)</picture>', html, re.S).group(1)
    assert 'alt="Image Org"' in block and f"/media/{logo.name}-128.jpg" in block
    token = csrf_token(owner, path)
    assert owner.post(f"{path}/remove", data={"csrf_token": token}).status_code == 303
    assert db.session.execute(sa.select(OrganisationLogo)).first() is None
    assert not list(Path(app.config["MEDIA_DIR"]).glob(f"{logo.name}-*"))


def test_media_urls_only_serve_stored_names(app, client):
    media = Path(app.config["MEDIA_DIR"])
    media.mkdir(parents=True, exist_ok=True)
    (media / "notes.txt").write_text("private")
    assert client.get("/media/notes.txt").status_code == 404
    assert client.get("/media/..%2Fsecret_key").status_code == 404
    assert client.get("/media/" + "a" * 32 + "-480.jpg").status_code == 404


def test_prune_deletes_files_no_row_names(app, runner):
    stored = images.store_image(Upload(photo_with_gps()), "campaign")  # written, never committed to a row
    result = runner.invoke(args=["prune-media"])
    assert result.exit_code == 0 and "4 files deleted" in result.output
    assert not stored_files(app, stored)


# -- backup ---------------------------------------------------------------------------------------------------------

@pytest.mark.skipif(ON_POSTGRES, reason="restoring needs a new database; the SQLite one is enough for the pictures")
def test_backup_and_restore_carry_the_pictures(app, editor, runner, tmp_path):
    client, campaign, _org = editor
    assert _post_picture(client, campaign, photo_with_gps()).status_code == 303
    media = Path(app.config["MEDIA_DIR"])
    originals = {p.name: p.read_bytes() for p in media.glob("*-*")}
    assert len(originals) == 4
    output = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(output)])
    assert result.exit_code == 0, result.output
    assert "4 picture files" in result.output

    from petition_app import create_app

    fresh = create_app({"DATABASE_URL": "sqlite:///" + str(tmp_path / "fresh.sqlite3"), "SECRET_KEY": "x",
                        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "i2")})
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["restore", str(output)])
        assert result.exit_code == 0, result.output
        restored = Path(fresh.config["MEDIA_DIR"])
        assert {p.name: p.read_bytes() for p in restored.glob("*-*")} == originals
        name = db.session.execute(sa.select(CampaignImage.name)).scalar_one()
        served = fresh.test_client().get(f"/media/{name}-480.webp")
        assert served.status_code == 200 and served.data == originals[f"{name}-480.webp"]
        served.close()
        db.session.remove()
        db.engine.dispose()

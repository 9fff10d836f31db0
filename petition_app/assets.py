"""Static files under content-hashed names, served from memory, pre-compressed and cached for a year.

At start-up every file in static/ gets a name with a hash of its bytes (css/site.3f2a…c1.css); templates link it
with `static_url('css/site.css')`. A changed file gets a new name, so the old one can be `immutable`: a repeat view
makes no request for CSS, JavaScript or icons. Unhashed names are still served, revalidated with an ETag.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from flask import Flask, Response, current_app, request, url_for
from flask_compress import Compress

from petition_app.pagecache import choose_encoding

COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "image/svg+xml", "application/json",
                "text/plain", "text/html"}
IMMUTABLE = "public, max-age=31536000, immutable"
compress = Compress()


@dataclass
class Asset:
    body: bytes
    mimetype: str
    etag: str
    encoded: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Manifest:
    names: dict[str, str] = field(default_factory=dict)  # logical name -> hashed name
    assets: dict[str, Asset] = field(default_factory=dict)  # hashed name -> asset
    fingerprint: str = ""


def build_manifest(folder: str | Path) -> Manifest:
    manifest = Manifest()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        logical = path.relative_to(root).as_posix()
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:16]
        hashed = f"{logical[: -len(path.suffix)] if path.suffix else logical}.{digest}{path.suffix}"
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        asset = Asset(body=body, mimetype=mimetype, etag=digest)
        if mimetype in COMPRESSIBLE and len(body) > 256:
            asset.encoded = {"br": brotli.compress(body, quality=11), "gzip": gzip.compress(body, 9, mtime=0)}
        manifest.names[logical] = hashed
        manifest.assets[hashed] = asset
    # Pages cached in a shared Redis by a previous release must not link static files this release does not have.
    manifest.fingerprint = hashlib.sha256("|".join(manifest.names.values()).encode()).hexdigest()[:8]
    return manifest


def static_url(filename: str) -> str:
    """The URL of a static file under its content-hashed name (the plain name if it is not in the manifest)."""
    manifest: Manifest = current_app.extensions["asset_manifest"]
    return url_for("static", filename=manifest.names.get(filename, filename))


def _serve_static(filename: str):
    manifest: Manifest = current_app.extensions["asset_manifest"]
    asset = manifest.assets.get(filename)
    if asset is None:
        response = current_app.send_static_file(filename)
        response.headers["Cache-Control"] = "public, no-cache"
        return response
    encoding = choose_encoding() if asset.encoded else None
    if encoding:
        response = Response(asset.encoded[encoding], mimetype=asset.mimetype)
        response.headers["Content-Encoding"] = encoding
        response.set_etag(f"{asset.etag}-{encoding}")
    else:
        response = Response(asset.body, mimetype=asset.mimetype)
        response.set_etag(asset.etag)
    if asset.encoded:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = IMMUTABLE
    return response.make_conditional(request)


def _favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page links: give them the site's icon, not a 404."""
    manifest: Manifest = current_app.extensions["asset_manifest"]
    response = _serve_static(manifest.names["img/favicon.svg"])
    response.headers["Cache-Control"] = "public, max-age=86400"  # the address has no hash: it may change
    return response


def _compress_public_responses(response: Response) -> Response:
    # Never pages that hold a secret (admin pages with their session token, pages reached by a mailed link):
    # compressing a secret beside text an attacker can reflect leaks it through the length (BREACH).
    if request.blueprint == "admin" or "token" in (request.view_args or {}):
        return response
    return compress.after_request(response)


def init_app(app: Flask) -> None:
    app.extensions["asset_manifest"] = build_manifest(app.static_folder)
    app.view_functions["static"] = _serve_static
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.jinja_env.globals["static_url"] = static_url
    for key, value in {
        "COMPRESS_REGISTER": False,
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_BR_LEVEL": 4,
        "COMPRESS_STREAMS": False,
        "COMPRESS_MIMETYPES": sorted(COMPRESSIBLE),
    }.items():
        app.config.setdefault(key, value)
    compress.init_app(app)
    app.after_request(_compress_public_responses)

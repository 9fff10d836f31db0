"""Public pages rendered once per (page, language) and served as the same bytes to every anonymous visitor.

A cached page carries no cookie and no per-visitor token, an ETag, and `Cache-Control: public` so a proxy in front
may keep it too. Commits that change what public pages show (campaigns, updates, organisations, site pages,
site settings, starters) drop every cached page once the transaction commits; signatures do not: a page may show a count up to
PAGE_CACHE_SECONDS old, and the live counter corrects it.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from functools import wraps

import brotli
from flask import Flask, Response, current_app, has_app_context, make_response, request, session
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from petition_app import fastpath
from petition_app.cache import MemoryCache
from petition_app.security import form_token_bucket

PREFIX = "page:"


def _cache():
    return current_app.extensions["petition_cache"]


def cache_headers(response: Response, seconds: int) -> Response:
    # Browsers revalidate every view (a 304 from the page cache costs next to nothing), so an edit shows on the next
    # load; shared caches in front may keep the page for `seconds` and serve it stale while refreshing or erring.
    response.headers["Cache-Control"] = (
        f"public, max-age=0, s-maxage={seconds}, stale-while-revalidate={max(60, seconds * 6)}, stale-if-error=86400"
    )
    response.vary.update(("Accept-Language", "Cookie"))
    return response


class _Compressed:
    """Compressed forms of cached bodies, by ETag, in this process (bounded)."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, etag: str, encoding: str, body: bytes) -> bytes:
        key = (etag, encoding)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        data = brotli.compress(body, quality=9) if encoding == "br" else gzip.compress(body, 9, mtime=0)
        with self._lock:
            self._items[key] = data
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return data


_compressed = _Compressed()


def choose_encoding() -> str | None:
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if accepted[encoding] > 0:
            return encoding
    return None


def encoded_response(body: str, etag: str) -> Response:
    """A response with the body in the encoding the client prefers, compressed once per ETag in this process."""
    raw = body.encode()
    encoding = choose_encoding() if len(raw) > 256 else None
    if encoding:
        response = Response(_compressed.get(etag, encoding, raw), mimetype="text/html")
        response.headers["Content-Encoding"] = encoding
        response.set_etag(f"{etag}-{encoding}")
    else:
        response = Response(raw, mimetype="text/html")
        response.set_etag(etag)
    response.vary.add("Accept-Encoding")
    return response


def _serve(entry: dict, seconds: int) -> Response:
    response = encoded_response(entry["body"], entry["etag"])
    cache_headers(response, seconds)
    return response.make_conditional(request)


def public_page(view):
    """Serve a public GET page from the page cache, rendering it on a miss; only 200 answers are kept."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config["PAGE_CACHE_SECONDS"]
        personal = bool(request.query_string) or "_flashes" in session
        if personal or seconds <= 0:
            response = make_response(view(*args, **kwargs))
            if response.status_code == 200 and not personal:
                cache_headers(response, max(seconds, 0))
            return response
        build = current_app.extensions["asset_manifest"].fingerprint
        key = f"{PREFIX}{build}:{get_locale()}:{form_token_bucket()}:{request.path}"
        entry = _cache().get(key)
        if entry is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200 or response.is_streamed or "Set-Cookie" in response.headers:
                return response
            body = response.get_data(as_text=True)
            entry = {"body": body, "etag": hashlib.sha256(body.encode()).hexdigest()[:32], "at": time.time()}
            _cache().set(key, entry, seconds)
        if isinstance(_cache(), MemoryCache) and "at" in entry:
            # Replayable in front of Flask until the entry expires (see fastpath): with the in-process cache, the
            # stamp file that drops every process's pages drops the replayed answers too.
            request.environ[fastpath.MARKER] = entry["at"] + seconds
        return _serve(entry, seconds)

    return wrapper


def cached_body(name: str, render) -> str:
    """A page body shared by every anonymous visitor but answered to a POST (e.g. "your signature is confirmed"):
    rendered once per language and form-token bucket, dropped with the public pages."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if seconds <= 0 or "_flashes" in session:
        return render()
    build = current_app.extensions["asset_manifest"].fingerprint
    key = f"{PREFIX}{build}:{get_locale()}:{form_token_bucket()}:{name}"
    body = _cache().get(key)
    if body is None:
        body = render()
        _cache().set(key, body, seconds)
    return body


def cached_value(name: str, compute):
    """Plain data (JSON-able) that public pages are made of, kept and dropped with them: any committed change of
    public content drops it in every process, before the next request reads it. Computed again after that."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if seconds <= 0:
        return compute()
    key = f"{PREFIX}value:{name}"
    cache = _cache()
    generation = cache.generation()
    value = cache.get(key)
    if value is None:
        value = compute()
        # Not kept if a change was committed (and the pages dropped) while it was computed: it may predate it.
        cache.set_unless_dropped(key, value, seconds, generation)
    return value


def drop_pages() -> None:
    _cache().drop_prefix(PREFIX)
    fastpath.forget(current_app)


def _content_models() -> tuple[type, ...]:
    from petition_app.models import (
        Campaign,
        CampaignImage,
        CampaignTranslation,
        CampaignUpdate,
        CampaignUpdateTranslation,
        EmbedOrigin,
        Organisation,
        OrganisationLogo,
        RelatedCampaign,
        SitePage,
        SiteSetting,
        SlugRedirect,
        Starter,
    )

    return (Campaign, CampaignUpdate, EmbedOrigin, Organisation, RelatedCampaign, SitePage, SiteSetting, SlugRedirect,
            Starter, CampaignTranslation, CampaignUpdateTranslation, CampaignImage, OrganisationLogo)


def _mark_if_content_changed(session: Session, flush_context) -> None:
    models = _content_models()
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, models):
            session.info["public_pages_changed"] = True
            return
    for obj in session.dirty:
        if isinstance(obj, models) and session.is_modified(obj):
            session.info["public_pages_changed"] = True
            return


def _mark_bulk_change(state) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        if issubclass(state.bind_mapper.class_, _content_models()):
            state.session.info["public_pages_changed"] = True


def _drop_after_commit(session: Session) -> None:
    if session.info.pop("public_pages_changed", False) and has_app_context():
        drop_pages()


def _forget_after_rollback(session: Session) -> None:
    session.info.pop("public_pages_changed", None)


_listening = False


def init_app(app: Flask) -> None:
    global _listening
    if not _listening:  # the events are on the Session class: once per process, whatever the number of apps
        event.listen(Session, "after_flush", _mark_if_content_changed)
        event.listen(Session, "do_orm_execute", _mark_bulk_change)
        event.listen(Session, "after_commit", _drop_after_commit)
        event.listen(Session, "after_rollback", _forget_after_rollback)
        _listening = True

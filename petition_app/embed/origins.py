"""Which partner sites may frame a campaign's embeddable page: validation, storage and the cached list.

An origin is a scheme, a host and a port, nothing else: `https://partner.example` or `https://partner.example:8443`.
Plain http is accepted only for the loopback host (a partner's development machine). No paths, no wildcards:
`frame-ancestors` is built from the list as it is, and a wildcard would let any site dress the form in its own page.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from petition_app import audit
from petition_app.extensions import db
from petition_app.models import Campaign, EmbedOrigin
from petition_app.pagecache import PREFIX

MAX_ORIGINS = 20
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class OriginError(ValueError):
    """An origin that cannot be allowed; str() is the message for the editor."""


def parse_origin(text: str) -> str:
    """The normalised origin (`https://host[:port]`), or OriginError saying what is wrong with it."""
    text = text.strip()
    if "*" in text:
        raise OriginError(_l("%(origin)s: wildcards are not allowed; list each site.", origin=text))
    if any(c.isspace() or c in ",;'\"" for c in text):
        raise OriginError(_l("%(origin)s: one address a line, without spaces or punctuation.", origin=text))
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise OriginError(_l("%(origin)s: write the address with https://", origin=text))
    if parts.username is not None or parts.password is not None:
        raise OriginError(_l("%(origin)s: no user name or password in the address.", origin=text))
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in text or "#" in text:
        raise OriginError(_l("%(origin)s: only the site, without a path (https://example.org).", origin=text))
    try:
        port = parts.port
    except ValueError:
        raise OriginError(_l("%(origin)s: the port is not a number.", origin=text)) from None
    raw_host = (parts.hostname or "").rstrip(".")
    host = "[::1]" if raw_host == "::1" else raw_host
    if host not in LOOPBACK_HOSTS:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            host = ""
        if not _HOST.match(host):
            raise OriginError(_l("%(origin)s: this is not a site address.", origin=text))
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise OriginError(_l("%(origin)s: partner sites must use https:// (http only for localhost).", origin=text))
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def parse_origins(text: str) -> list[str]:
    """Every origin of a text, one a line, normalised, without repeats; OriginError names the first bad one."""
    origins: list[str] = []
    for line in text.splitlines():
        if line.strip():
            origin = parse_origin(line)
            if origin not in origins:
                origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise OriginError(_l("At most %(num)d sites.", num=MAX_ORIGINS))
    return origins


def origins_of(campaign_id: int) -> list[str]:
    return list(db.session.execute(
        select(EmbedOrigin.origin).where(EmbedOrigin.campaign_id == campaign_id).order_by(EmbedOrigin.origin)
    ).scalars())


def set_origins(campaign: Campaign, origins: list[str]) -> None:
    """Replace the campaign's partner origins and commit (cached embed pages are dropped with the commit)."""
    before = origins_of(campaign.id)
    db.session.execute(delete(EmbedOrigin).where(EmbedOrigin.campaign_id == campaign.id))
    db.session.add_all(EmbedOrigin(campaign_id=campaign.id, origin=o) for o in origins)
    if before != sorted(origins):
        audit.record("embedding sites changed", target=campaign.title, organisation_id=campaign.organisation_id,
                     detail=", ".join(sorted(origins)) or "-")
    db.session.commit()


def framing_origins(slug: str) -> list[str]:
    """The origins allowed to frame this campaign's embed page, cached with the public pages (dropped with them)."""
    cache = current_app.extensions["petition_cache"]
    key = f"{PREFIX}embed-origins:{slug}"
    found = cache.get(key)
    if found is not None:
        return list(found)
    origins = list(db.session.execute(
        select(EmbedOrigin.origin).join(Campaign, Campaign.id == EmbedOrigin.campaign_id)
        .where(Campaign.slug == slug).order_by(EmbedOrigin.origin)
    ).scalars())
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if seconds > 0:
        cache.set(key, origins, seconds)
    return origins

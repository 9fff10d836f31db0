"""Site settings edited by superusers in the admin: name, colour, footer, mail sender name, the "start" invitation.

Text settings are kept per language, the colour (and the logo) once for the site. Every page reads them, so they
are not read from the database per view: the whole set is kept in the app's cache (in-process, or Redis) under a
key in the page cache's prefix. A change to a SiteSetting row drops the public pages after the commit (pagecache),
and that drop takes this key with it, in this process, in every other process on the machine (the stamp file) or
in Redis: the next view everywhere reads the new settings once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from flask import current_app, g, has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from petition_app import audit, pagecache
from petition_app.extensions import db
from petition_app.models import SiteSetting

log = logging.getLogger(__name__)
CACHE_KEY = pagecache.PREFIX + "site-settings"
CACHE_SECONDS = 3600  # changes drop the entry at once; this only bounds what a lost stamp could keep
SHARED = ("primary_colour", "logo", "logo_png")
UNCACHED = ("logo_png",)  # the logo's bytes: read only when a server first serves that logo (site_logo)
PER_LANGUAGE = ("site_name", "footer_text", "start_invitation", "mail_sender_name")
NAMES = ("site_name", "mail_sender_name")  # a name missing in one language is taken from another; sentences are not
WCAG_AA = 4.5


@dataclass(frozen=True)
class Snapshot:
    values: dict[str, str]  # "key" for shared settings, "key:language" for text; unset settings are absent
    version: str  # changes whenever any value does (names the site stylesheet)


def _field(key: str, language: str = "") -> str:
    return f"{key}:{language}" if language else key


def _load() -> dict | None:
    """The settings from the database, on a connection of their own (the request's transaction is left alone);
    None when they cannot be read (a database outage, or not migrated yet): pages then show the defaults."""
    table = SiteSetting.__table__
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(select(table.c.key, table.c.language, table.c.value)
                                .where(table.c.key.not_in(UNCACHED))).all()
    except SQLAlchemyError as error:
        log.warning("site settings unavailable: %s", type(error).__name__)
        return None
    values = {_field(key, language): value for key, language, value in rows if value}
    version = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
    return {"values": values, "version": version}


def snapshot() -> Snapshot:
    """The current settings: from the cache (once per request), from the database after a change."""
    if has_request_context() and "site_settings" in g:
        return g.site_settings
    cache = current_app.extensions["petition_cache"]
    data = cache.get(CACHE_KEY)
    if data is None:
        data = _load()
        if data is None:
            data = {"values": {}, "version": "defaults"}
        else:
            cache.set(CACHE_KEY, data, CACHE_SECONDS)
    found = Snapshot(values=data["values"], version=data["version"])
    if has_request_context():
        g.site_settings = found
    return found


def value(key: str, language: str = "") -> str:
    """A setting's value, "" when unset; text settings fall back across languages only for names."""
    values = snapshot().values
    if key in SHARED:
        return values.get(key, "")
    found = values.get(_field(key, language), "")
    if not found and key in NAMES:
        for other in current_app.config["LANGUAGES"]:
            found = values.get(_field(key, other), "")
            if found:
                break
    return found


def site_name(language: str) -> str:
    return value("site_name", language) or current_app.config["SITE_NAME"]


def primary_colour() -> str:
    return value("primary_colour")


def version() -> str:
    return snapshot().version


# -- colours --------------------------------------------------------------------------------------------------------


def parse_colour(text: str) -> str | None:
    """"#rrggbb" (lower case) from "#RRGGBB", "RRGGBB" or "#RGB"; None when it is not such a colour."""
    text = text.strip().lower().removeprefix("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6 or any(c not in "0123456789abcdef" for c in text):
        return None
    return "#" + text


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of "#rrggbb"."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g_, b = channels
    return 0.2126 * r + 0.7152 * g_ + 0.0722 * b


def contrast_with_white(colour: str) -> float:
    """The WCAG contrast ratio of white text on this colour (1 to 21)."""
    return 1.05 / (_luminance(colour) + 0.05)


def darker(colour: str, factor: float = 0.75) -> str:
    return "#" + "".join(f"{round(int(colour[i:i + 2], 16) * factor):02x}" for i in (1, 3, 5))


def stylesheet() -> str:
    """The CSS that applies the settings: custom properties over the ones site.css defines."""
    colour = primary_colour()
    if not colour:
        return ""
    return f":root {{ --brand: {colour}; --brand-dark: {darker(colour)}; }}\n"


# -- saving ---------------------------------------------------------------------------------------------------------


def save(values: dict[tuple[str, str], str]) -> list[str]:
    """Store settings given as {(key, language): value} ("" language for shared ones, "" value to unset);
    returns the changed ones as "key" or "key (language)". Adds to the session; the caller commits."""
    rows = {(r.key, r.language): r for r in db.session.execute(select(SiteSetting)).scalars()}
    changed = []
    for (key, language), new in values.items():
        if key not in SHARED + PER_LANGUAGE:
            raise ValueError(f"not a site setting: {key}")
        row = rows.get((key, language))
        old = row.value if row is not None else ""
        if new == old:
            continue
        if not new:
            db.session.delete(row)
        elif row is None:
            db.session.add(SiteSetting(key=key, language=language, value=new))
        else:
            row.value = new
        if key not in UNCACHED:
            changed.append(f"{key} ({language})" if language else key)
    db.session.flush()
    return changed


class SavedMeanwhile(Exception):
    """Someone else saved the settings at the same moment; nothing of this change was kept."""


def change(values: dict[tuple[str, str], str]) -> list[str]:
    """Store the settings (see `save`), audit what changed, and commit; returns the changed ones.
    SavedMeanwhile (rolled back) when a concurrent save took the same rows first."""
    try:
        changed = save(values)
        if changed:
            audit.record("site settings changed", detail="fields: " + ", ".join(changed))
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise SavedMeanwhile from error
    return changed


def stored_logo_png() -> str:
    """The current logo's PNG, base64-encoded ("" without a logo)."""
    return db.session.execute(
        select(SiteSetting.value).where(SiteSetting.key == "logo_png", SiteSetting.language == "")
    ).scalar() or ""

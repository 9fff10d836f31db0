"""The site's time zone (`TIMEZONE`): editors enter deadlines in it, supporters read them in it; the database
keeps UTC.

A deadline is a date and a time of day in the site's zone (a datetime-local field): signing stops at that moment.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from flask import Flask, current_app
from flask_babel import get_locale
from flask_babel import gettext as _

log = logging.getLogger(__name__)
DEFAULT = "UTC"


@lru_cache(maxsize=16)
def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone of that name (e.g. "Europe/Moscow"), or None when there is no such zone."""
    if not name or name != name.strip():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def site_zone() -> tzinfo:
    """The configured zone; UTC when it names no zone (`flask check` reports that as an error)."""
    return zone_named(current_app.config.get("TIMEZONE") or DEFAULT) or timezone.utc


def zone_label(moment: datetime) -> str:
    """The zone's offset from UTC at that moment, as "UTC", "UTC+3", "UTC−5" or "UTC+5:30"."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "+" if offset > timedelta(0) else "−"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def as_utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (SQLite hands back naive UTC values, PostgreSQL aware ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def to_site(value: datetime | None) -> datetime | None:
    """A stored (UTC) moment as the site's wall-clock time, aware."""
    value = as_utc(value)
    return None if value is None else value.astimezone(site_zone())


def local_time_exists(local: datetime) -> bool:
    """False for a wall-clock time skipped when the clocks go forward (e.g. 02:30 on a spring night)."""
    zone = local.tzinfo or site_zone()
    naive = local.replace(tzinfo=None)
    round_trip = naive.replace(tzinfo=zone).astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    return round_trip == naive


def _locale() -> str:
    return str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))


def deadline_date(value: datetime | None) -> str:
    """The deadline's day in the site's zone, in the visitor's language ("30 November 2026", "30 ноября 2026")."""
    local = to_site(value)
    return "" if local is None else format_date(local, "d MMMM y", locale=_locale())


def deadline_text(value: datetime | None) -> str:
    """The deadline as supporters read it: "Closes on 30 November 2026 at 23:59 (UTC+3)"."""
    local = to_site(value)
    if local is None:
        return ""
    return _("Closes on %(date)s at %(time)s (%(zone)s)", date=format_date(local, "d MMMM y", locale=_locale()),
             time=format_time(local, "short", locale=_locale()), zone=zone_label(local))


def deadline_short(value: datetime | None) -> str:
    """The deadline on a campaign card: "Closes on 30 November 2026"."""
    local = to_site(value)
    return "" if local is None else _("Closes on %(date)s", date=deadline_date(value))


def deadline_admin(value: datetime | None) -> str:
    """The deadline for editors: the site's wall-clock time with the zone's name ("2026-11-30 23:59 Europe/Moscow")."""
    local = to_site(value)
    if local is None:
        return ""
    name = current_app.config.get("TIMEZONE") if zone_named(current_app.config.get("TIMEZONE") or "") else DEFAULT
    return f"{local:%Y-%m-%d %H:%M} {name} ({zone_label(local)})"


def deadline_iso(value: datetime | None) -> str:
    """The moment for a <time datetime> attribute, in UTC ("2026-11-30T20:59Z")."""
    value = as_utc(value)
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%MZ")


def init_app(app: Flask) -> None:
    if zone_named(app.config.get("TIMEZONE") or DEFAULT) is None:
        log.error("TIMEZONE=%r names no time zone: deadlines are entered and shown in UTC. Use a name such as "
                  "Europe/Moscow (see `flask check`).", app.config.get("TIMEZONE"))
    app.jinja_env.filters["deadline"] = deadline_text
    app.jinja_env.filters["deadline_short"] = deadline_short
    app.jinja_env.filters["deadline_admin"] = deadline_admin
    app.jinja_env.filters["deadline_iso"] = deadline_iso
    app.jinja_env.globals["site_zone_name"] = lambda: (
        app.config.get("TIMEZONE") if zone_named(app.config.get("TIMEZONE") or "") else DEFAULT)

"""Campaign statistics for the admin overview: each figure comes from one aggregate query, never a loop over rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from babel.numbers import format_compact_decimal
from flask_babel import format_date, format_decimal, format_percent, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from petition_app.extensions import db
from petition_app.i18n import country_name
from petition_app.models import Campaign, Signature

CHART_DAYS = 30


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


@dataclass(frozen=True)
class Totals:
    online: int
    confirmed: int
    today: int
    first_day: date | None

    @property
    def unconfirmed(self) -> int:
        return self.online - self.confirmed


@dataclass(frozen=True)
class CountryRow:
    code: str
    name: str
    count: int
    share: str  # formatted percentage of the online signatures


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    title: str
    slot_x: float  # the whole column answers hover with the title, even on a day without signatures
    slot_width: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    anchor: str
    text: str


@dataclass(frozen=True)
class Chart:
    """An SVG bar chart laid out on the server: the template only writes the numbers into attributes."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[XLabel]
    summary: str

    @property
    def plot_height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True)
class Overview:
    totals: Totals
    countries: list[CountryRow]
    days: list[tuple[date, int]]
    chart: Chart | None


def _day_of(moment: datetime | None) -> date | None:
    """The UTC day of a stored time (stored times are read back in UTC)."""
    return None if moment is None else moment.date()


def totals(campaign_id: int) -> Totals:
    """Online, confirmed and today's (UTC) signatures and the first signing day, in one query.

    It reads only the (campaign_id, created_at, confirmed_at) index; the first day is taken from the earliest
    time rather than from the day of every row."""
    today_start = _midnight(utc_today())
    online, confirmed, today, first = db.session.execute(
        select(
            func.count(),
            func.count(Signature.confirmed_at),
            func.coalesce(func.sum(case((Signature.created_at >= today_start, 1), else_=0)), 0),
            func.min(Signature.created_at),
        ).where(Signature.campaign_id == campaign_id)
    ).one()
    return Totals(online=online, confirmed=confirmed, today=int(today), first_day=_day_of(first))


def country_counts(campaign_id: int) -> list[tuple[str, int]]:
    """(country code, signatures) of a campaign, most first: one GROUP BY."""
    n = func.count().label("n")
    return [(code, count) for code, count in db.session.execute(
        select(Signature.country, n).where(Signature.campaign_id == campaign_id)
        .group_by(Signature.country).order_by(n.desc(), Signature.country)
    ).all()]


def by_country(campaign_id: int, online: int, locale: str) -> list[CountryRow]:
    """Signatures per country, most first, with localised names and shares."""
    rows = country_counts(campaign_id)
    return [
        CountryRow(code=code, name=country_name(code, locale), count=count,
                   share=format_percent(count / online if online else 0, "#,##0.0%"))
        for code, count in rows
    ]


def per_day(campaign_id: int, first_day: date | None, today: date | None = None) -> list[tuple[date, int]]:
    """Signatures per UTC day for the last CHART_DAYS days, or since the first signature; days without any are 0."""
    if first_day is None:
        return []
    today = today or utc_today()
    start = max(first_day, today - timedelta(days=CHART_DAYS - 1))
    if start > today:
        return []
    days = [start + timedelta(days=i) for i in range((today - start).days + 1)]
    # One count per day over a range of the (campaign_id, created_at, confirmed_at) index, all in one statement:
    # no function of every row, no grouping.
    found = db.session.execute(select(*(
        select(func.count()).where(Signature.campaign_id == campaign_id,
                                   Signature.created_at >= _midnight(d),
                                   Signature.created_at < _midnight(d + timedelta(days=1))).scalar_subquery()
        for d in days
    ))).one()
    return list(zip(days, found, strict=True))


def _axis_top(peak: int) -> int:
    """The smallest of 2, 4, 6, 8, 10, 20, 40... at or above the peak: the middle tick stays a whole number."""
    scale = 1
    while True:
        for step in (2, 4, 6, 8, 10):
            if step * scale >= peak:
                return step * scale
        scale *= 10


def chart(days: list[tuple[date, int]], width: int = 320, height: int = 170) -> Chart | None:
    """Lay out a bar per day; sized so its 14-unit text is about 15 px on a 390-pixel-wide phone."""
    if not days:
        return None
    locale = get_locale()
    left, right, top, bottom = 46, width - 6, 10, height - 24  # room for "1,2 тыс."
    top_value = _axis_top(max(count for _day, count in days))
    slot = (right - left) / len(days)
    bar_width = min(slot * 0.75, 24)
    bars = []
    for i, (day, count) in enumerate(days):
        bar_height = 0.0 if not count else max(count / top_value * (bottom - top), 1.0)
        slot_x = left + i * slot
        bars.append(Bar(
            day=day, count=count,
            title=ngettext("%(day)s: %(count)s signature", "%(day)s: %(count)s signatures", count,
                           day=format_date(day, "d MMM y"), count=format_decimal(count)),
            slot_x=round(slot_x, 2), slot_width=round(slot, 2), x=round(slot_x + (slot - bar_width) / 2, 2),
            y=round(bottom - bar_height, 2), width=round(bar_width, 2), height=round(bar_height, 2),
        ))
    ticks = [Tick(y=round(bottom - fraction * (bottom - top), 2),
                  label=format_compact_decimal(int(top_value * fraction), locale=locale))
             for fraction in (0, 0.5, 1)]
    label_at = sorted({0, len(days) - 1} | ({(len(days) - 1) // 2} if len(days) >= 5 else set()))
    labels = []
    for i in label_at:
        if len(days) == 1:  # one bar, centred in the plot: its label goes under it
            x, anchor = bars[i].slot_x + bars[i].slot_width / 2, "middle"
        elif i == 0:
            x, anchor = bars[i].slot_x, "start"
        elif i == len(days) - 1:
            x, anchor = bars[i].slot_x + bars[i].slot_width, "end"
        else:
            x, anchor = bars[i].slot_x + bars[i].slot_width / 2, "middle"
        labels.append(XLabel(x=round(x, 2), anchor=anchor, text=format_date(days[i][0], "d MMM")))
    peak_day, peak = max(days, key=lambda pair: pair[1])
    summary = _(
        "Signatures per day from %(start)s to %(end)s: %(total)s in all, most on %(peak_day)s (%(peak)s).",
        start=format_date(days[0][0], "d MMM y"), end=format_date(days[-1][0], "d MMM y"),
        total=format_decimal(sum(count for _day, count in days)), peak_day=format_date(peak_day, "d MMM y"),
        peak=format_decimal(peak),
    )
    return Chart(width=width, height=height, left=left, right=right, top=top, bottom=bottom, bars=bars, ticks=ticks,
                 labels=labels, summary=summary)


def overview(campaign: Campaign) -> Overview:
    """Everything the campaign overview shows about its signatures: four aggregate queries."""
    locale = str(get_locale())
    found = totals(campaign.id)
    days = per_day(campaign.id, found.first_day)
    return Overview(totals=found, countries=by_country(campaign.id, found.online, locale), days=days,
                    chart=chart(days))

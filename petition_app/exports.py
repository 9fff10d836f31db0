"""Signature exports for the admin and the command line, streamed: rows are read and written a batch at a time.

The delivery list holds only what a campaign delivers (first name, last name, country) of the signatures its
delivery policy covers; the full export holds every field but the internal hashes and is for owners only.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from sqlalchemy import Select, case, func, select

from petition_app import sealing
from petition_app.extensions import db
from petition_app.i18n import country_name
from petition_app.models import Campaign, Signature

BATCH_SIZE = 1000
BOM = "\ufeff"  # lets Excel read the file as UTF-8
# A cell starting with one of these is a formula to a spreadsheet (CSV injection); a leading quote makes it text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

DELIVERY_HEADER = ("first_name", "last_name", "country")
FULL_HEADER = (
    "id", "first_name", "last_name", "email", "country", "phone", "language", "consent_email", "consent_sms",
    "consent_share", "consents_given_at", "confirmed", "confirmed_at", "sealed",
)
KINDS = ("delivery", "full")

Progress = Callable[[int], object]


def neutralise(value: object) -> object:
    """Make a cell that a spreadsheet would run as a formula plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def delivery_conditions(campaign: Campaign) -> list:
    """Which signatures the campaign delivers: a starter's campaign only those who agreed to share with the
    starter; a confirmed-only campaign only confirmed ones."""
    conditions = [Signature.campaign_id == campaign.id]
    if campaign.started_by:
        conditions.append(Signature.consent_share.is_(True))
    if campaign.count_confirmed_only:
        conditions.append(Signature.confirmed_at.is_not(None))
    return conditions


def starter_delivery_conditions(campaign: Campaign) -> list:
    """What a campaign's starter may receive: only signers who agreed to share with the starter, whatever the
    campaign's other settings say; on a confirmed-only campaign, only confirmed ones."""
    conditions = [Signature.campaign_id == campaign.id, Signature.consent_share.is_(True)]
    if campaign.count_confirmed_only:
        conditions.append(Signature.confirmed_at.is_not(None))
    return conditions


def _conditions(campaign: Campaign, kind: str) -> list:
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}")
    return delivery_conditions(campaign) if kind == "delivery" else [Signature.campaign_id == campaign.id]


def count(campaign: Campaign, kind: str) -> int:
    """How many rows an export of this kind holds."""
    return db.session.execute(
        select(func.count()).select_from(Signature).where(*_conditions(campaign, kind))
    ).scalar_one()


def batches(query: Select) -> Iterator[list]:
    """Run a query and hand its rows over BATCH_SIZE at a time (a server-side cursor on PostgreSQL)."""
    result = db.session.execute(query.execution_options(yield_per=BATCH_SIZE))
    try:
        yield from result.partitions()
    finally:
        result.close()


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _personal(row, private_key: str | None) -> dict:
    """A row's names, email and phone: in clear, opened with the private key, or blank while sealed."""
    if row.sealed is not None and private_key:
        return sealing.unseal(private_key, row.sealed)
    return {"first_name": row.first_name, "last_name": row.last_name,
            "email": getattr(row, "email", ""), "phone": getattr(row, "phone", None)}


def _full_row(row, private_key: str | None = None) -> tuple:
    person = _personal(row, private_key)
    still_sealed = row.sealed is not None and not private_key
    return (
        row.id, person["first_name"], person["last_name"], person["email"], row.country, person["phone"] or "",
        row.language, _yes_no(row.consent_email), _yes_no(row.consent_sms), _yes_no(row.consent_share),
        _utc(row.created_at), _yes_no(row.confirmed_at is not None), _utc(row.confirmed_at),
        base64.b64encode(row.sealed).decode() if still_sealed else "",
    )


def csv_chunks(header: Iterable[str], query: Select, to_cells: Callable[[object], Iterable], progress: Progress | None
         ) -> Iterator[str]:
    """CSV text: the header (after a byte-order mark), then one chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def drain() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield BOM + drain()
    for batch in batches(query):
        writer.writerows([neutralise(cell) for cell in to_cells(row)] for row in batch)
        if progress is not None:
            progress(len(batch))
        yield drain()


def delivery_csv(campaign: Campaign, progress: Progress | None = None, private_key: str | None = None,
                 conditions: list | None = None) -> Iterator[str]:
    """The delivery list as CSV: first_name, last_name, country (sealed names need the private key).

    `conditions` narrows it further (the starter's list); by default the campaign's delivery policy."""
    query = (select(Signature.first_name, Signature.last_name, Signature.country, Signature.sealed)
             .where(*(conditions or delivery_conditions(campaign))).order_by(Signature.id))

    def cells(row) -> tuple:
        person = _personal(row, private_key)
        return person["first_name"], person["last_name"], row.country

    return csv_chunks(DELIVERY_HEADER, query, cells, progress)


def full_csv(campaign: Campaign, progress: Progress | None = None,
             private_key: str | None = None, conditions: list | None = None) -> Iterator[str]:
    """Every signature with every field a signer gave (no internal hashes); sealed data stays sealed (base64)
    unless the organisation's private key is given. `conditions` narrows it (the opted-in list for mailings)."""
    query = (select(Signature.id, Signature.first_name, Signature.last_name, Signature.email, Signature.country,
                    Signature.phone, Signature.language, Signature.consent_email, Signature.consent_sms,
                    Signature.consent_share, Signature.created_at, Signature.confirmed_at, Signature.sealed)
             .where(*(conditions or [Signature.campaign_id == campaign.id])).order_by(Signature.id))
    return csv_chunks(FULL_HEADER, query, lambda row: _full_row(row, private_key), progress)


def csv_export(campaign: Campaign, kind: str, progress: Progress | None = None,
               private_key: str | None = None) -> Iterator[str]:
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}")
    export = delivery_csv if kind == "delivery" else full_csv
    return export(campaign, progress, private_key)


def unseal_full_csv(lines: Iterable[str], private_key: str) -> Iterator[str]:
    """Open the sealed cells of a downloaded full export, offline, with the organisation's private key."""
    reader = csv.DictReader(line.lstrip(BOM) if i == 0 else line for i, line in enumerate(lines))
    header = [h for h in (reader.fieldnames or []) if h != "sealed"]
    missing = {"first_name", "last_name", "email", "phone", "sealed"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"not a full export: missing columns {', '.join(sorted(missing))}")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    yield BOM + buffer.getvalue()
    for row in reader:
        buffer.seek(0)
        buffer.truncate()
        if row.get("sealed"):
            opened = sealing.unseal(private_key, base64.b64decode(row["sealed"]))
            row.update({k: neutralise(v or "") for k, v in opened.items()})
        writer.writerow(row)
        yield buffer.getvalue()


@dataclass
class CountryGroup:
    code: str
    name: str
    count: int
    names: Iterator[tuple[str, str]]  # (first, last); read it before moving to the next group


@dataclass
class DeliveryList:
    total: int
    groups: Iterator[CountryGroup]


def delivery_by_country(campaign: Campaign, locale: str) -> DeliveryList:
    """The delivery list grouped by country (countries by name in the locale, names by last name), streamed.

    One GROUP BY gives each country's count for its heading; one ordered query streams the names.
    """
    conditions = delivery_conditions(campaign)
    counts = dict(db.session.execute(
        select(Signature.country, func.count()).where(*conditions).group_by(Signature.country)
    ).all())
    if not counts:
        return DeliveryList(total=0, groups=iter(()))
    order = sorted(counts, key=lambda code: (country_name(code, locale).casefold(), code))
    position = case({code: i for i, code in enumerate(order)}, value=Signature.country, else_=len(order))
    query = (select(Signature.country, Signature.first_name, Signature.last_name).where(*conditions)
             .order_by(position, Signature.country, Signature.last_name, Signature.first_name, Signature.id))

    def groups() -> Iterator[CountryGroup]:
        rows = itertools.chain.from_iterable(batches(query))
        for code, members in itertools.groupby(rows, key=attrgetter("country")):
            yield CountryGroup(code=code, name=country_name(code, locale), count=counts.get(code, 0),
                               names=((row.first_name, row.last_name) for row in members))

    return DeliveryList(total=sum(counts.values()), groups=groups())

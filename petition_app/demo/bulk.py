"""`flask demo bulk-signatures SLUG N`: many synthetic signatures at once, for benchmarks.

Nothing personal: names are "Demo Signer", addresses are under the reserved .invalid domain, hashes are not keyed.
Rows go in with COPY on PostgreSQL and in executemany batches on SQLite, in one transaction with the count.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterator

from petition_app import counts
from petition_app.extensions import db
from petition_app.models import Campaign
from petition_app.privacy import coarse_now

COLUMNS = ("campaign_id", "first_name", "last_name", "email", "email_hash", "country", "consent_email",
           "consent_sms", "consent_share", "language", "created_at", "confirmed_at")
# A plausible spread of countries for the per-country table (weights sum to 20).
COUNTRIES = tuple(itertools.chain.from_iterable(
    [code] * weight for code, weight in
    (("RU", 8), ("DE", 2), ("GE", 2), ("AM", 1), ("KZ", 1), ("FR", 1), ("GB", 1), ("US", 1), ("RS", 1), ("TR", 1))))


def _letters(n: int) -> str:
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[digit] + out
        if n == 0:
            return out.capitalize()


def _rows(campaign_id: int, n: int) -> Iterator[tuple]:
    run = uuid.uuid4().hex[:12]
    now = coarse_now()
    for i in range(n):
        tag = f"{run}-{i}"
        yield (campaign_id, "Demo", f"Signer {_letters(i)}", f"bulk-{tag}@example.invalid",
               hashlib.sha256(f"bulk:{campaign_id}:{tag}".encode()).hexdigest(), COUNTRIES[i % len(COUNTRIES)],
               i % 3 == 0, False, False, "ru" if i % 4 else "en", now, now)


def bulk_signatures(campaign: Campaign, n: int, batch: int = 20_000) -> int:
    """Insert n confirmed synthetic signatures into the campaign and count them; returns n."""
    campaign_id, slug = campaign.id, campaign.slug
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    rows = _rows(campaign_id, n)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY signatures ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        sql = f"INSERT INTO signatures ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608 (constant column names)
        cursor = raw.cursor()
        while chunk := list(itertools.islice(rows, batch)):
            stamp = chunk[0][10].strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME format
            cursor.executemany(sql, [(*r[:10], stamp, stamp) for r in chunk])
        cursor.close()
    counts.add(campaign_id, n)
    counts.forget_after_commit(slug)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum would do some time later: fresh planner statistics and a visibility map, so the
        # aggregate queries of the admin overview read the covering indexes alone right away.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) signatures")
    return n

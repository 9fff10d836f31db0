"""Benchmark of the signature exports: memory stays flat however many signatures a campaign has.

For each size (10,000, 50,000 and 200,000 signatures by default) a fresh database (a new SQLite file, or a
throw-away PostgreSQL schema emptied between sizes) gets one open campaign with that many signatures, bulk
inserted, and a small second campaign whose export warms up each measuring process. Then each export runs, in
a process of its own started for that one measurement, writing everything to /dev/null:

  full       exports.csv_export(campaign, "full"): every field, streamed 1,000 rows at a time
  delivery   exports.csv_export(campaign, "delivery"): first name, last name, country, streamed
  print      exports.delivery_by_country(campaign, "en"): the print page's grouped list, streamed
  naive-all  the non-streaming baseline: select(Signature) ... .scalars().all(), then the same CSV rows as
             "full" written with csv.writer, i.e. what an export costs when it loads every row first

Each case runs twice, each time in a fresh process, because tracing allocations distorts time and RSS (with
tracemalloc on, naive-all takes about 3 times as long and its RSS growth more than doubles):

  seconds, rows/s     wall time of the export alone (app start-up and the warm-up export not counted)
  RSS growth MB       growth of the process's peak resident memory (getrusage ru_maxrss) across the export;
                      the peak mark is first brought down to the current RSS (/proc/self/clear_refs), so what
                      start-up used and freed cannot hide what the export adds. SQLite's page cache and sorter
                      count here: they live in the process
  peak RSS MB         the process's peak resident memory during the export (app and warm-up included)
  tracemalloc MB      peak of Python allocations during the export, measured in the second process with
                      tracemalloc on (memory the database driver allocates in C is not traced)

The kernel carries a process's peak RSS over to the programs it starts, so this script keeps its own process
small: the database is loaded by a child process too.

Streamed exports should show the same tracemalloc peak and RSS growth at every size; the last line gives the
ratio of the streamed peak at the largest size to that at the smallest (about 1 means flat) and the naive
peak at the largest size. Absolute figures depend on the machine and the run; nothing here asserts.

    .venv/bin/python bench/export.py [--rows 10000,50000,200000] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import csv
import gc
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_ROWS = "10000,50000,200000"  # 2.8 minutes on 2 CPUs with SQLite; 10k,100k,300k took 3.6
INSERT_BATCH = 10_000
WARM_UP_ROWS = 2_500  # the warm-up campaign: a few export batches, so every code path has run once
KINDS = ("full", "delivery", "print", "naive-all")
STREAMED = ("full", "delivery", "print")
BENCH_SLUG, WARM_UP_SLUG = "bench-export", "bench-warm-up"
COUNTRIES = ("DE", "FR", "PL", "UA", "RU", "GB", "US", "BR", "IN", "NG", "KE", "TR", "ES", "IT", "SE", "JP")
FIRST_NAMES = ("Anna", "Oleksandr", "Marie", "José", "Aiko", "Chinedu", "Ingrid", "Mateus", "Priya", "Zofia",
               "Ahmet", "Liam", "Дарья", "Giulia", "Wanjiru", "Søren")
LAST_NAMES = ("Kowalska", "Shevchenko", "Dubois", "García", "Tanaka", "Okafor", "Lindqvist", "Silva", "Sharma",
              "Nowak", "Yılmaz", "O'Brien", "Иванова", "Rossi", "Mwangi", "Østergaard")


def app_config(url: str, instance: str) -> dict:
    return {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance, "RATELIMIT_ENABLED": False,
            "TESTING": True}


# --- the database -------------------------------------------------------------------------------------------


def signature_rows(campaign_id: int, start: int, stop: int, created: datetime) -> list[dict]:
    rows = []
    for i in range(start, stop):
        email = f"signer.{campaign_id}.{i}@example.org"
        rows.append({
            "campaign_id": campaign_id,
            "first_name": FIRST_NAMES[i % len(FIRST_NAMES)],
            "last_name": f"{LAST_NAMES[(i // 7) % len(LAST_NAMES)]}-{i}",
            "email": email,
            "email_hash": hashlib.sha256(email.encode()).hexdigest(),
            "country": COUNTRIES[i % len(COUNTRIES)],
            "consent_email": False,
            "consent_sms": False,
            "consent_share": False,
            "language": "en",
            "created_at": created + timedelta(seconds=i),
        })
    return rows


def empty_tables() -> None:
    import sqlalchemy as sa

    from petition_app.extensions import db

    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def fill(url: str, instance: str, rows: int) -> float:
    """Create the tables (if need be), empty them, and load the two campaigns; returns the seconds it took."""
    import sqlalchemy as sa

    from petition_app import create_app
    from petition_app.extensions import db
    from petition_app.models import Campaign, Organisation, Signature
    from petition_app.models.campaign import CampaignStatus

    started = time.perf_counter()
    app = create_app(app_config(url, instance))
    with app.app_context():
        try:
            db.create_all()
            empty_tables()
            org = Organisation(slug="bench-org", name="Bench Organisation")
            campaigns = {slug: Campaign(slug=slug, title=slug, goal=max(rows, 1), status=CampaignStatus.OPEN,
                                        organisation=org)
                         for slug in (BENCH_SLUG, WARM_UP_SLUG)}
            db.session.add_all(campaigns.values())
            db.session.flush()
            created = datetime(2025, 1, 1, tzinfo=timezone.utc)
            for slug, count in ((WARM_UP_SLUG, WARM_UP_ROWS), (BENCH_SLUG, rows)):
                for start in range(0, count, INSERT_BATCH):
                    db.session.execute(sa.insert(Signature), signature_rows(
                        campaigns[slug].id, start, min(start + INSERT_BATCH, count), created))
                campaigns[slug].signature_count = count
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(sa.text("ANALYZE"))
        finally:
            db.session.remove()
            db.engine.dispose()
    return time.perf_counter() - started


def drop_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- one measurement, in a process of its own --------------------------------------------------------------


def run_export(kind: str, campaign, out) -> int:
    """Write one export of the campaign to out; returns the number of signatures written."""
    from sqlalchemy import select

    from petition_app import exports
    from petition_app.extensions import db
    from petition_app.models import Signature

    written = 0

    def progress(n: int) -> None:
        nonlocal written
        written += n

    if kind in ("full", "delivery"):
        for chunk in exports.csv_export(campaign, kind, progress=progress):
            out.write(chunk)
    elif kind == "print":
        listing = exports.delivery_by_country(campaign, "en")
        for group in listing.groups:
            out.write(f"{group.name} ({group.count})\n")
            for first, last in group.names:
                out.write(f"{first} {last}\n")
                written += 1
    elif kind == "naive-all":
        rows = db.session.execute(
            select(Signature).where(Signature.campaign_id == campaign.id).order_by(Signature.id)
        ).scalars().all()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(exports.FULL_HEADER)
        writer.writerows([exports.neutralise(cell) for cell in exports._full_row(row)] for row in rows)
        written = len(rows)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return written


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def reset_peak_rss() -> bool:
    """Bring the peak-RSS mark down to the current RSS (Linux >= 4.0), so that what start-up used and freed
    again cannot hide what the export adds. ru_maxrss never goes below the peak the parent had when this
    process was started (the kernel carries it over an exec), which is why the parent stays small."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def child(kind: str, url: str, instance: str, trace: bool) -> dict:
    from sqlalchemy import select

    from petition_app import create_app
    from petition_app.extensions import db
    from petition_app.models import Campaign

    app = create_app(app_config(url, instance))
    with app.app_context(), open(os.devnull, "w", encoding="utf-8", newline="") as out:
        try:
            warm_up = db.session.execute(select(Campaign).where(Campaign.slug == WARM_UP_SLUG)).scalar_one()
            campaign = db.session.execute(select(Campaign).where(Campaign.slug == BENCH_SLUG)).scalar_one()
            run_export(kind, warm_up, out)  # imports, compiled queries, locale data, the connection
            gc.collect()
            hwm_reset = reset_peak_rss()
            if trace:
                tracemalloc.start()
            rss_before = max_rss_mb()
            started = time.perf_counter()
            written = run_export(kind, campaign, out)
            seconds = time.perf_counter() - started
            traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
            tracemalloc.stop()
            rss_after = max_rss_mb()
        finally:
            db.session.remove()
            db.engine.dispose()
    return {"written": written, "seconds": seconds, "rss_growth": rss_after - rss_before, "rss_peak": rss_after,
            "traced": traced, "hwm_reset": hwm_reset}


def run_child(args: list[str]):
    """Run this script in a fresh process in one of its hidden modes; returns what it printed last, as JSON."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], cwd=ROOT, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(kind: str, url: str, instance: str, trace: bool) -> dict:
    return run_child(["--child", kind, "--url", url, "--instance", instance, *(["--trace"] if trace else [])])


# --- the run ------------------------------------------------------------------------------------------------


def parse_rows(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def bench(sizes: list[int], database: str, tmp: Path) -> list[dict]:
    import sqlalchemy as sa

    results = []
    schema = engine = None
    if database == "postgresql":
        schema = "bench_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        for rows in sizes:
            if schema:
                url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
                sqlite_file = None
            else:
                sqlite_file = tmp / f"export-{rows}.sqlite3"
                url = f"sqlite:///{sqlite_file}"
            try:
                load_seconds = run_child(["--fill", str(rows), "--url", url, "--instance", str(tmp / "instance")])
                print(f"  {rows:,} signatures loaded in {load_seconds:.1f} s; measuring ...", file=sys.stderr)
                for kind in KINDS:
                    timed = measure(kind, url, str(tmp / "instance"), trace=False)
                    traced = measure(kind, url, str(tmp / "instance"), trace=True)
                    results.append({"rows": rows, "kind": kind, **timed, "traced": traced["traced"]})
            finally:
                if sqlite_file is not None:
                    drop_sqlite(sqlite_file)
    finally:
        if engine is not None:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    return results


def report(results: list[dict], database: str, sizes: list[int]) -> None:
    reset = "reset before each export" if all(r["hwm_reset"] for r in results) else "NOT reset (no clear_refs)"
    print(f"database: {database}; CPUs: {os.cpu_count()}; Python {sys.version.split()[0]}; output to /dev/null; "
          f"one fresh process per measurement; peak-RSS mark {reset}; this process's own peak "
          f"{max_rss_mb():.0f} MB")
    print(f"{'rows':>9} {'kind':<10} {'written':>9} {'seconds':>8} {'rows/s':>10} {'tracemalloc MB':>15} "
          f"{'RSS growth MB':>14} {'peak RSS MB':>12}")
    for r in results:
        rate = r["written"] / r["seconds"] if r["seconds"] > 0 else float("nan")
        print(f"{r['rows']:>9,} {r['kind']:<10} {r['written']:>9,} {r['seconds']:>8.2f} {rate:>10,.0f} "
              f"{r['traced']:>15.1f} {r['rss_growth']:>14.1f} {r['rss_peak']:>12.1f}")
    small, large = min(sizes), max(sizes)

    def at(rows: int, kinds, key: str) -> float:
        return max(r[key] for r in results if r["rows"] == rows and r["kind"] in kinds)

    streamed_small, streamed_large = at(small, STREAMED, "traced"), at(large, STREAMED, "traced")
    ratio = streamed_large / streamed_small if streamed_small > 0 else float("nan")
    per_kind = ", ".join(
        f"{kind} {at(large, (kind,), 'traced') / at(small, (kind,), 'traced'):.2f}x" for kind in STREAMED
    )
    print(f"streamed tracemalloc peak, {large:,} vs {small:,} rows: {streamed_large:.1f} MB / "
          f"{streamed_small:.1f} MB = {ratio:.2f}x ({per_kind}); RSS growth {at(large, STREAMED, 'rss_growth'):.1f} "
          f"MB vs {at(small, STREAMED, 'rss_growth'):.1f} MB; naive-all at {large:,} rows: tracemalloc peak "
          f"{at(large, ('naive-all',), 'traced'):.1f} MB, RSS growth {at(large, ('naive-all',), 'rss_growth'):.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=parse_rows, default=parse_rows(DEFAULT_ROWS),
                        help=f"comma-separated signature counts (default {DEFAULT_ROWS})")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help=f"default sqlite (a temporary file); postgresql uses a throw-away schema at {POSTGRES_URL}")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child, args.url, args.instance, args.trace)))
        return 0
    if args.fill is not None:
        print(json.dumps(fill(args.url, args.instance, args.fill)))
        return 0

    sizes = sorted(set(args.rows))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="petition-bench-export-") as tmpname:
        results = bench(sizes, args.database, Path(tmpname))
    report(results, args.database, sizes)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

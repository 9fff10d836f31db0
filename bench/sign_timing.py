"""Can the time a sign request takes tell whether the address had signed? Served the production way (gunicorn).

The app runs under `gunicorn -c gunicorn.conf.py` (as `make run` serves it) on a throw-away database with one
campaign that counts only confirmed signatures (the default). Before measuring, this script signs, in process:
25 addresses left unconfirmed and 25 confirmed ("duplicate": signing again queues a fresh confirmation or the
"already signed" mail), and 50 addresses whose repeat mails for the day are used up ("limited": signing again
queues a row that is never sent). Then, from this process over loopback and one request at a time, it signs like a
browser (GET the page for its form, POST the form; only the POST is timed) with, in one shuffled order:

  new        50 addresses never seen
  duplicate  the 50 addresses that had signed (first repeat of the day)
  limited    the 50 addresses whose repeat mails are used up
  control    50 more new addresses: the baseline, a split that carries no information

For each pair (new vs duplicate, new vs limited, and the baseline new vs control) it prints medians and p90 and
the accuracy of two classifiers: a threshold at the midpoint of the two medians, and the best single threshold
chosen after the fact (an optimistic attacker). About 50% means the two cannot be told apart; compare with the
control's figures, measured in the same run. Nothing here asserts on time.

    .venv/bin/python bench/sign_timing.py [--database sqlite|postgresql] [--per-class 50] [--seed N]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from _common import free_port, stop_server  # bench/_common.py (the script's own directory)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLUG = "timing"
PER_CLASS = 50
WARM_UP = 20
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Browser:
    """One keep-alive connection with a cookie jar of one cookie, as a browser tab would have."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                self.cookie = value.split(";", 1)[0]
        return resp.status, data

    def sign(self, email: str) -> float:
        """Load the campaign page, then post its form; returns the seconds the POST took."""
        status, page = self.request("GET", f"/campaigns/{SLUG}")
        if status != 200:
            raise RuntimeError(f"campaign page answered {status}")
        match = _TOKEN.search(page.decode())
        fields = {"first_name": "Ivan", "last_name": "Probe", "email": email, "country": "RU"}
        if match:
            fields["csrf_token"] = match.group(1)
        body = urlencode(fields)
        start = time.perf_counter()
        status, _ = self.request("POST", f"/campaigns/{SLUG}/sign", body)
        took = time.perf_counter() - start
        if status != 303:
            raise RuntimeError(f"signing answered {status}")
        return took


def prepare(tmp: Path, database: str, per_class: int) -> tuple[dict, str | None]:
    """Create the database, the campaign and the signatures made before the measurement."""
    import sqlalchemy as sa

    from petition_app import create_app
    from petition_app.extensions import db
    from petition_app.models import Campaign, CampaignStatus, Organisation, Signature
    from petition_app.signing.service import SignatureInput, confirm, sign

    schema = None
    url = f"sqlite:///{tmp}/bench.sqlite3"
    if database == "postgresql":
        schema = "bench_" + uuid.uuid4().hex[:10]
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    mapping = {"DATABASE_URL": url, "SECRET_KEY": "bench-" + uuid.uuid4().hex, "INSTANCE_PATH": str(tmp),
               "RATELIMIT_ENABLED": False, "PUBLIC_URL": "http://127.0.0.1"}
    app = create_app(mapping)
    with app.app_context():
        db.create_all()
        campaign = Campaign(slug=SLUG, title="Timing", organisation=Organisation(slug="o", name="O"),
                            status=CampaignStatus.OPEN, goal=1000)
        db.session.add(campaign)
        db.session.commit()
        for i in range(per_class):
            sign(campaign, SignatureInput("Vera", "Signed", f"dup{i}@example.org", "RU"))
            sign(campaign, SignatureInput("Lena", "Limited", f"limited{i}@example.org", "RU"))
        for i in range(0, per_class, 2):
            confirm(db.session.execute(sa.select(Signature).where(Signature.email == f"dup{i}@example.org")).scalar_one())
        # Their repeat mails for today are used up.
        db.session.execute(sa.update(Signature).where(Signature.email.like("limited%"))
                           .values(repeat_day=datetime.now(timezone.utc).date(), repeat_mails=3))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    (tmp / "bench_wsgi.py").write_text(f"from petition_app import create_app\napp = create_app({mapping!r})\n")
    return mapping, schema


def drop_schema(schema: str | None) -> None:
    if schema:
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def start_server(tmp: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
           "--no-control-socket", "--access-logfile", "/dev/null", "--pythonpath", f"{tmp},{ROOT}", "bench_wsgi:app"]
    with open(tmp / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{(tmp / 'server.log').read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", f"/campaigns/{SLUG}")
            conn.getresponse().read()
            conn.close()
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not answer within 60 s")


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[8]


def classify(a: list[float], b: list[float]) -> tuple[float, float]:
    """Accuracy (%) of telling a from b by time: threshold at the midpoint of medians, and the best threshold."""
    labelled = [(t, 0) for t in a] + [(t, 1) for t in b]
    slower_b = statistics.median(b) >= statistics.median(a)

    def accuracy(threshold: float, b_above: bool) -> float:
        right = sum((t > threshold) == (label == 1) if b_above else (t <= threshold) == (label == 1)
                    for t, label in labelled)
        return 100 * right / len(labelled)

    midpoint = accuracy((statistics.median(a) + statistics.median(b)) / 2, slower_b)
    best = max(accuracy(t, above) for t, _ in labelled for above in (True, False))
    return midpoint, best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=None, help="order of the requests (default: random)")
    parser.add_argument("--per-class", type=int, default=PER_CLASS, help=f"requests per class (default {PER_CLASS})")
    args = parser.parse_args()
    per_class = args.per_class

    with tempfile.TemporaryDirectory(prefix="petition-sign-timing-") as tmpname:
        tmp = Path(tmpname)
        _, schema = prepare(tmp, args.database, per_class)
        proc = None
        try:
            proc, port = start_server(tmp)
            browser = Browser(port)
            for i in range(WARM_UP):
                browser.sign(f"warm{i}@example.org")
            probes = ([("new", f"new{i}@example.org") for i in range(per_class)]
                      + [("duplicate", f"dup{i}@example.org") for i in range(per_class)]
                      + [("limited", f"limited{i}@example.org") for i in range(per_class)]
                      + [("control", f"control{i}@example.org") for i in range(per_class)])
            random.Random(args.seed).shuffle(probes)
            times: dict[str, list[float]] = {"new": [], "duplicate": [], "limited": [], "control": []}
            for kind, email in probes:
                times[kind].append(browser.sign(email))
        finally:
            if proc is not None:
                stop_server(proc)
            drop_schema(schema)

    print(f"sign POST over HTTP, gunicorn -c gunicorn.conf.py, {args.database}, {per_class} requests per class, "
          f"shuffled, sequential, {os.cpu_count()} CPUs")
    print(f"{'class':<11}{'median ms':>10}{'p90 ms':>9}")
    for kind, values in times.items():
        print(f"{kind:<11}{statistics.median(values) * 1000:>10.2f}{p90(values) * 1000:>9.2f}")
    print(f"\n{'pair':<22}{'midpoint classifier':>21}{'best threshold':>16}")
    for a, b in (("new", "duplicate"), ("new", "limited"), ("new", "control")):
        midpoint, best = classify(times[a], times[b])
        label = f"{a} vs {b}" + (" (baseline)" if b == "control" else "")
        print(f"{label:<22}{midpoint:>20.0f}%{best:>15.0f}%")
    print("\n50% = indistinguishable; the baseline's figures show what chance alone gives with this many samples.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

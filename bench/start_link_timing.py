"""Can the time of a /start/link answer tell whether an address belongs to a campaign starter?

Against a real gunicorn (`-w 1 --threads 4`) on a throw-away SQLite database holding KNOWN approved starters, this
sends KNOWN requests with their addresses and as many with unknown addresses, shuffled, one at a time, and times
each POST (the GET that fetches the form's token is not timed). It prints the median per group and the accuracy
of the best single-threshold classifier ("slower than t means a starter"), chosen with hindsight on the very
data it classifies, so it flatters the attacker.

Baseline, in the same run: the same classifier on GET /start/link for the same two groups of requests, where the
address plays no part at all; its accuracy is what chance and overfitting alone give (50-60 %). Nothing here
asserts on time.

    .venv/bin/python bench/start_link_timing.py [--known 50]
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def prepare(database_url: str, known: int, instance: str) -> list[str]:
    """Tables, a host organisation and `known` approved starters; returns their addresses."""
    from petition_app import create_app
    from petition_app.extensions import db
    from petition_app.models import Organisation
    from petition_app.starter import service

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance,
                      "PUBLIC_URL": "http://localhost"})
    addresses = [f"starter{i}@example.org" for i in range(known)]
    with app.app_context():
        db.create_all()
        db.session.add(Organisation(slug="host", name="Host"))
        db.session.commit()
        for i, address in enumerate(addresses):
            starter = service.propose(service.Proposal(
                public_name=f"Group {i}", email=address, title=f"Campaign number {i}", lead="Lead.", body="Body.",
                targets="Them", demands="One", goal=100, language="en", contact_language="en"))
            service.confirm(starter)
            service.approve(starter)
        db.engine.dispose()
    return addresses


def timed_request(port: int, address: str) -> tuple[float, float]:
    """(seconds for GET /start/link, seconds for the POST with this address)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request("GET", "/start/link")
    response = conn.getresponse()
    page = response.read().decode()
    get_time = time.perf_counter() - started
    cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = TOKEN.search(page).group(1)
    body = urlencode({"csrf_token": token, "email": address})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    started = time.perf_counter()
    conn.request("POST", "/start/link", body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    post_time = time.perf_counter() - started
    conn.close()
    if answer.status != 200:
        raise RuntimeError(f"POST /start/link answered {answer.status}")
    return get_time, post_time


def best_threshold_accuracy(known: list[float], unknown: list[float]) -> float:
    """Accuracy of the best rule "time > t means known" (or its reverse), t chosen with hindsight."""
    labelled = sorted([(t, 1) for t in known] + [(t, 0) for t in unknown])
    total = len(labelled)
    best = 0.5
    known_above = len(known)  # with t below every time, everything is classified "known"
    unknown_below = 0
    for _, label in labelled:
        if label:
            known_above -= 1
        else:
            unknown_below += 1
        correct = known_above + unknown_below
        best = max(best, correct / total, (total - correct) / total)
    return best


def main() -> None:
    from tests.live_gunicorn import gunicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--known", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        addresses = prepare(url, args.known, folder + "/instance")
        requests = [(True, a) for a in addresses] + [(False, f"nobody{i}@example.org") for i in range(args.known)]
        random.Random(args.seed).shuffle(requests)
        env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": "0", "PUBLIC_URL": "http://localhost",
               "MAIL_DIR": folder + "/mail", "WEB_CONCURRENCY": "1"}
        times: dict[bool, dict[str, list[float]]] = {True: {"get": [], "post": []}, False: {"get": [], "post": []}}
        with gunicorn(env, workers=1, threads=4) as port:
            for _known, address in requests[:6]:  # warm-up, not counted
                timed_request(port, address)
            for known, address in requests:
                get_time, post_time = timed_request(port, address)
                times[known]["get"].append(get_time)
                times[known]["post"].append(post_time)
    print(f"/start/link timing, {args.known} starter addresses and {args.known} unknown ones, shuffled")
    print(f"{'request':<26}{'median known':>14}{'median unknown':>16}{'classifier':>12}")
    for label, kind in (("GET  (baseline)", "get"), ("POST (the request)", "post")):
        known_times, unknown_times = times[True][kind], times[False][kind]
        accuracy = best_threshold_accuracy(known_times, unknown_times)
        print(f"{label:<26}{statistics.median(known_times) * 1000:>12.2f}ms"
              f"{statistics.median(unknown_times) * 1000:>14.2f}ms{accuracy * 100:>11.0f}%")


if __name__ == "__main__":
    main()

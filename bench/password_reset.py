"""Benchmark: does "Forgot your password?" answer in the same time whether or not the address has an account?

Sends N requests for an address with an account and N for addresses without one, shuffled, through the app's
test client (in-process, a throw-away SQLite database, rate limits off), and prints per case the median and p90
of the response time, with a baseline measured in the same run (GET of the static "sent" page). Then it tries to
tell the two cases apart by time alone: a threshold at the midpoint of the two medians, and the share of requests
it classifies correctly (50% is chance). Nothing here asserts on time.

    .venv/bin/python bench/password_reset.py [--n 50]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()

    from petition_app import create_app
    from petition_app.extensions import db
    from petition_app.models import User
    from petition_app.passwords import hash_password

    folder = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": folder, "RATELIMIT_ENABLED": False, "PUBLIC_URL": "http://localhost",
                      "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024})
    with app.app_context():
        db.create_all()
        db.session.add(User(email="admin@example.org", password_hash=hash_password("a long enough password")))
        db.session.commit()

    client = app.test_client()
    page = client.get("/admin/forgot").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def forgot(address: str) -> float:
        start = time.perf_counter()
        response = client.post("/admin/forgot", data={"email": address, "csrf_token": token})
        elapsed = time.perf_counter() - start
        assert response.status_code == 303, response.status_code
        return elapsed

    def baseline() -> float:
        start = time.perf_counter()
        client.get("/admin/forgot/sent")
        return time.perf_counter() - start

    for i in range(10):  # warm-up
        forgot(f"warm{i}@example.org")
        baseline()
    cases = ["known"] * args.n + ["unknown"] * args.n
    random.shuffle(cases)
    times: dict[str, list[float]] = {"known": [], "unknown": [], "baseline": []}
    for i, case in enumerate(cases):
        times[case].append(forgot("admin@example.org" if case == "known" else f"nobody{i}@example.org"))
        times["baseline"].append(baseline())

    def ms(values: list[float], q: float) -> float:
        return sorted(values)[int(q * (len(values) - 1))] * 1000

    for case, values in times.items():
        print(f"{case:9s} n={len(values):3d}  median {ms(values, .5):7.2f} ms  p90 {ms(values, .9):7.2f} ms")
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    threshold = (known + unknown) / 2
    slower_is_known = known > unknown
    right = sum((t > threshold) == slower_is_known for t in times["known"])
    right += sum((t > threshold) != slower_is_known for t in times["unknown"])
    print(f"median difference {abs(known - unknown) * 1000:.2f} ms; "
          f"classified by time alone: {right}/{len(cases)} ({100 * right / len(cases):.0f}%, 50% is chance)")


if __name__ == "__main__":
    main()

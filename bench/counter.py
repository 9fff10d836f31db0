"""Benchmark of the live counter fragment, served the production way (`gunicorn -w 2 --threads 8`).

Measures, in one run and against a throw-away SQLite database loaded with the demo content:

  baseline     a bare Flask app whose one route returns a static ~600-byte HTML fragment
  counter      GET /campaigns/<slug>/counter (the cached counter fragment, 200 with an ETag)
  counter-304  the same with If-None-Match set to that ETag (the revalidation path pollers take)
  page         GET /campaigns/<slug> (the full campaign page, for context)

The load comes from this process, a different one from the servers, over loopback: THREADS threads each
send keep-alive requests with http.client for a fixed time (warm-up not counted). Requests/s and latency
(p50, p95) are printed per case. Absolute figures depend on the machine, the run, and the fact that the load
generator shares the CPUs with the server, so the ratio to the baseline measured in the same run is the
figure that counts. Nothing here asserts on time.

    .venv/bin/python bench/counter.py [--seconds 5] [--threads 16]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import free_port, stop_server  # bench/_common.py (the script's own directory)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLUG = "russia-oppose-lgbt-criminalization"
GUNICORN = ["-w", "2", "--threads", "8"]
MAX_REQUESTS_PER_THREAD = 200_000  # a bound on top of the time limit, so a run always stops

BASELINE_WSGI = '''from flask import Flask
app = Flask(__name__)
FRAGMENT = """{fragment}"""
@app.get("/")
def fragment():
    return FRAGMENT
'''
FRAGMENT = "\n".join(
    f'<div id="counter-{i}" class="counter"><strong>{i * 1234:,}</strong> '
    f'signatures of a goal of <span>{i * 5000:,}</span><progress max="100" value="{i * 7}"></progress></div>'
    for i in range(1, 5)
)


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def start_server(tmp: Path, module: str, name: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [str(ROOT / ".venv/bin/gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{port}", "--no-control-socket",
           "--pythonpath", f"{tmp},{ROOT}", f"{module}:app"]
    with open(tmp / f"{name}.log", "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited:\n{(tmp / f'{name}.log').read_text()[-2000:]}")
        try:
            get(port, "/")
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{name} server did not answer within 60 s")


def peak_rss_mb(proc: subprocess.Popen) -> float | None:
    """Sum of VmHWM (peak resident memory) of the gunicorn master and its workers."""
    try:
        out = subprocess.run(["ps", "--ppid", str(proc.pid), "-o", "pid="], capture_output=True, text=True).stdout
        total = 0
        for pid in [proc.pid, *map(int, out.split())]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        return total / 1024
    except (OSError, ValueError):
        return None


def worker(port: int, path: str, headers: dict, expect: int, warm_until: float, stop_at: float):
    """One client thread: keep-alive requests until stop_at; latencies recorded after warm_until."""
    latencies, errors, conn = [], 0, None
    for _ in range(MAX_REQUESTS_PER_THREAD):
        now = time.perf_counter()
        if now >= stop_at:
            break
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == expect
        except (OSError, http.client.HTTPException):
            ok = False
            if conn is not None:
                conn.close()
            conn = None
        if now >= warm_until:
            if ok:
                latencies.append(time.perf_counter() - now)
            else:
                errors += 1
    if conn is not None:
        conn.close()
    return latencies, errors


def measure(port: int, path: str, headers: dict, expect: int, seconds: float, threads: int) -> dict:
    start = time.perf_counter()
    warm_until = start + min(1.0, seconds / 5)
    stop_at = warm_until + seconds
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(worker, port, path, headers, expect, warm_until, stop_at) for _ in range(threads)]
        results = [f.result() for f in futures]
    lat = sorted(x for r, _ in results for x in r)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [float("nan")] * 99
    return {"rps": len(lat) / seconds, "p50": q[49] * 1000, "p95": q[94] * 1000, "n": len(lat),
            "errors": sum(e for _, e in results)}


def prepare(tmp: Path) -> dict:
    from petition_app import create_app
    from petition_app.demo.loader import load_demo
    from petition_app.extensions import db

    mapping = {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
               "INSTANCE_PATH": str(tmp), "RATELIMIT_ENABLED": False}
    app = create_app(mapping)
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.remove()
        db.engine.dispose()
    (tmp / "bench_wsgi.py").write_text(f"from petition_app import create_app\napp = create_app({mapping!r})\n")
    (tmp / "baseline_wsgi.py").write_text(BASELINE_WSGI.format(fragment=FRAGMENT))
    return mapping


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per case (default 5)")
    parser.add_argument("--threads", type=int, default=16, help="client threads (default 16)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="petition-bench-") as tmpname:
        tmp = Path(tmpname)
        prepare(tmp)
        servers = []
        try:
            base_proc, base_port = start_server(tmp, "baseline_wsgi", "baseline")
            servers.append(base_proc)
            app_proc, app_port = start_server(tmp, "bench_wsgi", "app")
            servers.append(app_proc)

            counter = f"/campaigns/{SLUG}/counter"
            status, headers, body = get(app_port, counter)
            etag = headers.get("ETag")
            if status != 200 or not etag:
                raise RuntimeError(f"counter answered {status} without an ETag")
            sizes = {"baseline": len(get(base_port, "/")[2]), "counter": len(body), "counter-304": 0,
                     "page": len(get(app_port, f"/campaigns/{SLUG}")[2])}
            cases = [
                ("baseline", base_port, "/", {}, 200),
                ("counter", app_port, counter, {}, 200),
                ("counter-304", app_port, counter, {"If-None-Match": etag}, 304),
                ("page", app_port, f"/campaigns/{SLUG}", {}, 200),
            ]
            rows = {name: measure(port, path, hdrs, expect, args.seconds, args.threads)
                    for name, port, path, hdrs, expect in cases}
            rss = {"baseline": peak_rss_mb(base_proc), "app": peak_rss_mb(app_proc)}
        finally:
            for proc in servers:
                stop_server(proc)

    print(f"gunicorn {' '.join(GUNICORN)} (gthread, no access log) on 127.0.0.1; CPUs: {os.cpu_count()}; "
          f"client: {args.threads} keep-alive threads in one process, {args.seconds:g} s per case")
    print(f"{'case':<12} {'bytes':>6} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'vs base':>8} {'errors':>7}")
    base = rows["baseline"]["rps"] or float("nan")
    for name, r in rows.items():
        print(f"{name:<12} {sizes[name]:>6} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p95']:>8.2f} "
              f"{r['rps'] / base:>8.2f} {r['errors']:>7}")
    if all(v is not None for v in rss.values()):
        print(f"peak RSS (master + workers, VmHWM): baseline {rss['baseline']:.0f} MB, app {rss['app']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Slow clients (slowloris-style partial requests) against gunicorn alone and through deploy/'s nginx site.

gunicorn is started the production way (`gunicorn.conf.py`, 2 workers x 8 threads). For each number of slow
connections (each sends a request body one byte every half second), one normal request is timed straight to
gunicorn (the baseline: what the onion service did when Tor pointed at gunicorn) and through nginx. A request that
takes longer than --timeout is printed as "blocked". Nothing here asserts on time; tests/test_deploy.py checks that
slow clients do not block others through the proxy.

    .venv/bin/python bench/slow_clients.py [--counts 0,8,16,32] [--timeout 5]
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.deploy_stack import (  # noqa: E402
    NGINX,
    app_env,
    free_port,
    prepare_database,
    render_nginx,
    start_gunicorn,
    start_nginx,
    stop,
)


def slow_connection(port: int, stop_event: threading.Event, opened: list) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    opened.append(sock)
    sock.sendall(b"POST /campaigns/bench/sign HTTP/1.1\r\nHost: localhost\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
    while not stop_event.wait(0.5):
        try:
            sock.sendall(b"a")
        except OSError:
            return


def timed_get(port: int, timeout: float) -> str:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/campaigns/bench")
        status = connection.getresponse().status
    except OSError:
        return "blocked"
    finally:
        connection.close()
    return f"{(time.monotonic() - started) * 1000:7.1f} ms ({status})"


def measure(port: int, slow: int, timeout: float) -> str:
    stop_event, opened = threading.Event(), []
    for _ in range(slow):
        threading.Thread(target=slow_connection, args=(port, stop_event, opened), daemon=True).start()
    time.sleep(1.5)
    try:
        return timed_get(port, timeout)
    finally:
        stop_event.set()
        for sock in opened:
            sock.close()
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="0,8,16,32")
    parser.add_argument("--timeout", type=float, default=5)
    args = parser.parse_args()
    if NGINX is None:
        sys.exit("nginx is not installed (apt-get install nginx)")
    folder = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    database = "sqlite:///" + str(folder / "bench.sqlite3")
    prepare_database(database, "bench")
    app_port, https_port, onion_port = free_port(), free_port(), free_port()
    env = app_env(database, "http://127.0.0.1", folder / "mail", WEB_CONCURRENCY="2", GUNICORN_THREADS="8",
                  TRUSTED_PROXIES="1")
    gunicorn = start_gunicorn(env, app_port, folder / "gunicorn.log")
    nginx = start_nginx(folder, render_nginx(folder, https_port, onion_port, app_port), https_port)
    try:
        print(f"{'slow clients':>12}  {'gunicorn alone (baseline)':>26}  {'through nginx':>18}")
        for slow in (int(n) for n in args.counts.split(",")):
            direct = measure(app_port, slow, args.timeout)
            proxied = measure(onion_port, slow, args.timeout)
            print(f"{slow:>12}  {direct:>26}  {proxied:>18}")
    finally:
        stop(nginx, signal.SIGQUIT)
        stop(gunicorn)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""deploy/'s nginx site in front of a real gunicorn and mail worker, checked through the proxy as visitors see it.

Needs Debian's nginx (CI installs it; REQUIRE_NGINX=1 turns a missing nginx into a failure).
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import threading
import time
import uuid

import pytest

from tests.deploy_stack import (
    NGINX,
    ROOT,
    VENV_BIN,
    Client,
    app_env,
    free_port,
    prepare_database,
    render_nginx,
    start_gunicorn,
    start_nginx,
    start_process,
    stop,
)

pytestmark = pytest.mark.slow
SLUG = "deploy-" + uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if NGINX is None:
        if os.environ.get("REQUIRE_NGINX", "") not in ("", "0"):
            pytest.fail("nginx is required (REQUIRE_NGINX=1) but not installed")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    folder = tmp_path_factory.mktemp("deploy")
    database_url = "sqlite:///" + str(folder / "site.sqlite3")
    prepare_database(database_url, SLUG)
    app_port, https_port, onion_port = free_port(), free_port(), free_port()
    env = app_env(database_url, f"https://localhost:{https_port}", folder / "mail", TRUSTED_PROXIES="1",
                  RATELIMIT_SIGN="3 per minute", WEB_CONCURRENCY="1", GUNICORN_THREADS="4",
                  COUNTER_CACHE_SECONDS="2", WORKER_POLL_SECONDS="1")
    gunicorn = start_gunicorn(env, app_port, folder / "gunicorn.log")
    worker = start_process([str(VENV_BIN / "flask"), "--app", "wsgi", "worker"], env, folder / "worker.log")
    conf = render_nginx(folder, https_port, onion_port, app_port)
    nginx = start_nginx(folder, conf, https_port)
    state = {"folder": folder, "https": https_port, "onion": onion_port, "app": app_port, "gunicorn": gunicorn}
    yield state
    stop(nginx, signal.SIGQUIT)
    stop(worker)
    stop(state["gunicorn"])


def sign(client: Client, email: str, headers: dict | None = None):
    token = client.form_token(f"/campaigns/{SLUG}")
    return client.request("POST", f"/campaigns/{SLUG}/sign", headers=headers, body={
        "csrf_token": token, "first_name": "Anna", "last_name": "Ivanova", "email": email, "country": "DE"})


def test_pages_and_signing_work_over_https_and_the_worker_sends_the_mail(stack):
    client = Client(stack["https"], "127.0.0.4")
    response, body = client.request("GET", "/")
    assert response.status == 200 and b"Deploy test campaign" in body
    response, _ = sign(client, "deploy-first@example.org")
    assert response.status == 303
    assert response.getheader("Location").endswith(f"/campaigns/{SLUG}/thanks")
    response, _ = client.request("GET", f"/campaigns/{SLUG}/thanks")
    assert response.status == 200
    mail = stack["folder"] / "mail"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(mail.glob("*.eml")):
        time.sleep(0.2)
    messages = list(mail.glob("*.eml"))
    assert messages and b"deploy-first@example.org" in messages[0].read_bytes()


def test_each_client_address_has_its_own_limit_and_a_forged_forwarded_header_buys_nothing(stack):
    first, second = Client(stack["https"], "127.0.0.2"), Client(stack["https"], "127.0.0.3")
    codes = [sign(first, f"limit-a{i}@example.org")[0].status for i in range(4)]
    assert codes == [303, 303, 303, 429]
    assert sign(second, "limit-b0@example.org")[0].status == 303  # another visitor is not affected
    forged = sign(first, "limit-a9@example.org", headers={"X-Forwarded-For": "198.51.100.77"})[0]
    assert forged.status == 429


def test_responses_are_compressed_and_static_files_cached_long(stack):
    client = Client(stack["https"], "127.0.0.5")
    response, body = client.request("GET", f"/campaigns/{SLUG}", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
    assert b"Deploy test campaign" in gzip.decompress(body)
    response, body = client.request("GET", "/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == (ROOT / "static/css/site.css").read_bytes()
    cache_control = response.getheader("Cache-Control") or ""
    max_age = int(cache_control.split("max-age=")[1].split(",")[0])
    assert max_age >= 7 * 86400
    # The names the pages link are content-hashed and exist only in the app: through the proxy they must arrive,
    # whole and immutable (a 404 here is a site without its stylesheet and scripts).
    page = client.request("GET", f"/campaigns/{SLUG}")[1].decode()
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert any(re.search(r"/static/css/site\.[0-9a-f]{8,}\.css$", url) for url in linked), linked
    for url in linked:
        response, body = client.request("GET", url)
        assert response.status == 200, url
        assert "immutable" in (response.getheader("Cache-Control") or ""), url
        logical = re.sub(r"\.[0-9a-f]{8,}(\.[a-z0-9]+)$", r"\1", url.removeprefix("/static/"))
        assert body == (ROOT / "static" / logical).read_bytes(), url


def test_the_access_log_names_no_client(stack):
    client = Client(stack["https"], "127.0.0.6")
    client.request("GET", "/s/confirm/secret-token-value-123")
    # nginx writes the line as it finishes the request, which may be just after the client has the answer.
    deadline = time.monotonic() + 5
    while "/s/confirm/" not in (log := (stack["folder"] / "access.log").read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "/s/confirm/..." in log
    assert "127.0.0.6" not in log and "secret-token-value-123" not in log


def _slow_client(port: int, kind: str, stop_event: threading.Event, connected: list) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    connected.append(sock)
    if kind == "headers":
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        tail = b"X-Slow: 1\r\n"
    else:
        sock.sendall(f"POST /campaigns/{SLUG}/sign HTTP/1.1\r\nHost: localhost\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n".encode())
        tail = b"a"
    while not stop_event.wait(0.5):
        try:
            sock.sendall(tail)
        except OSError:
            return


def test_slow_clients_do_not_block_others_through_the_proxy(stack):
    """Twenty slowloris connections (partial headers, partial bodies) on the onion port, where Tor connects."""
    stop_event, connected = threading.Event(), []
    threads = [threading.Thread(target=_slow_client, args=(stack["onion"], kind, stop_event, connected), daemon=True)
               for kind in ("headers", "body") * 10]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(connected) < len(threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1)
        assert len(connected) == 20
        started = time.monotonic()
        response, body = Client(stack["onion"], tls=False).request("GET", f"/campaigns/{SLUG}", timeout=5)
        assert response.status == 200 and b"Deploy test campaign" in body
        response, _ = Client(stack["https"], "127.0.0.7").request("GET", "/", timeout=5)
        assert response.status == 200
        assert time.monotonic() - started < 5
    finally:
        stop_event.set()
        for sock in connected:
            sock.close()


def _shared_cacheable(cache_control: str) -> bool:
    """What nginx stores: public with a positive max-age (or s-maxage), and nothing that forbids it."""
    directives = {d.split("=")[0].strip().lower(): d.partition("=")[2] for d in cache_control.split(",") if d}
    if {"no-store", "no-cache", "private"} & directives.keys() or "public" not in directives:
        return False
    return int(directives.get("s-maxage") or directives.get("max-age") or 0) > 0


def test_while_the_app_is_stopped_cached_pages_are_served_and_signing_gets_a_clear_error(stack):
    client = Client(stack["https"], "127.0.0.8")
    counter = f"/campaigns/{SLUG}/counter"
    first, fresh = Client(stack["https"], "127.0.0.8").request("GET", counter)  # an anonymous poller
    assert first.status == 200 and "public" in first.getheader("Cache-Control")
    page, _ = Client(stack["https"], "127.0.0.8").request("GET", f"/campaigns/{SLUG}")
    page_cacheable = _shared_cacheable(page.getheader("Cache-Control") or "") and not page.getheader("Set-Cookie")
    Client(stack["https"], "127.0.0.8").request("GET", f"/campaigns/{SLUG}")
    token = client.form_token(f"/campaigns/{SLUG}")

    stop(stack["gunicorn"])
    time.sleep(2.5)  # past the counter's max-age: only stale-if-error can answer now
    response, body = Client(stack["https"], "127.0.0.8").request("GET", counter, timeout=10)
    assert response.status == 200 and body == fresh
    assert response.getheader("X-Cache-Status") == "STALE"

    # The campaign page is the same for every anonymous visitor and says so (public, s-maxage, no cookie): the proxy
    # keeps serving it while the app is down.
    assert page_cacheable, page.getheader("Cache-Control")
    response, body = Client(stack["https"], "127.0.0.9").request("GET", f"/campaigns/{SLUG}", timeout=10)
    assert response.status == 200 and b"Deploy test campaign" in body
    assert response.getheader("X-Cache-Status") in ("STALE", "HIT")

    started = time.monotonic()
    response, body = client.request("POST", f"/campaigns/{SLUG}/sign", timeout=15, body={
        "csrf_token": token, "first_name": "Anna", "last_name": "Ivanova", "email": "down@example.org",
        "country": "DE"})
    assert time.monotonic() - started < 6
    assert response.status == 502
    assert b"Temporarily unavailable" in body and "Временно недоступно".encode() in body

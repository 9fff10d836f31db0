"""gunicorn as configured by gunicorn.conf.py: instances side by side, a scrubbed error log, startup checks."""

from __future__ import annotations

import signal
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tests.deploy_stack import app_env, free_port, prepare_database, start_gunicorn, stop

pytestmark = pytest.mark.slow


@pytest.fixture
def database(tmp_path):
    url = "sqlite:///" + str(tmp_path / "g.sqlite3")
    prepare_database(url, "gunicorn-test")
    return url


def _get(port: int, path: str = "/") -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:  # noqa: S310
        return response.status


def test_two_instances_on_one_host_do_not_share_a_control_socket(database, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = app_env(database, "http://127.0.0.1", tmp_path / "mail", HOME=str(home), WEB_CONCURRENCY="1")
    env.pop("XDG_RUNTIME_DIR", None)
    first_port, second_port = free_port(), free_port()
    first = start_gunicorn(env, first_port, tmp_path / "first.log")
    second = start_gunicorn(env, second_port, tmp_path / "second.log")
    try:
        assert _get(first_port) == 200 and _get(second_port) == 200
        stop(first)
        assert _get(second_port) == 200  # stopping one leaves the other serving
        assert not (home / ".gunicorn").exists()  # no shared ~/.gunicorn/gunicorn.ctl
        # Whatever the app writes is the owner's only: the whole server runs with umask 077.
        assert "Umask:\t0077" in Path(f"/proc/{second.pid}/status").read_text()
    finally:
        stop(first)
        stop(second)
    assert "control" not in (tmp_path / "second.log").read_text().lower()


def test_an_instance_may_have_its_own_control_socket(database, tmp_path):
    path = tmp_path / "one.ctl"
    env = app_env(database, "http://127.0.0.1", tmp_path / "mail", WEB_CONCURRENCY="1",
                  GUNICORN_CONTROL_SOCKET=str(path))
    port = free_port()
    process = start_gunicorn(env, port, tmp_path / "g.log")
    try:
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.exists()
    finally:
        stop(process)


def test_the_error_log_of_a_malformed_request_names_no_client_and_startup_checks_are_logged(database, tmp_path):
    env = app_env(database, "http://petitions.example.org", tmp_path / "mail", WEB_CONCURRENCY="2")
    port = free_port()
    log = tmp_path / "g.log"
    process = start_gunicorn(env, port, log)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.23", 0)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n")
            answer = sock.recv(1000)
        assert answer.startswith(b"HTTP/1.1 400")
        time.sleep(0.5)
    finally:
        stop(process, signal.SIGTERM)
    text = log.read_text()
    assert "Invalid request from ip=-" in text
    assert "127.0.0.23" not in text
    # Started with an http:// public address, no mail server, two workers and no Redis: said loudly at start.
    assert "CONFIGURATION ERROR (public-url-not-https)" in text
    assert "CONFIGURATION ERROR (no-mail-server)" in text
    assert "CONFIGURATION WARNING (limits-per-worker)" in text

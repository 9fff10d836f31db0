"""The live counter (and cached public pages) answered in front of Flask, for as long as the cached entry lasts.

Thousands of open pages poll the counter. Its answer is already cached (see campaigns.views.counter), yet going
through Flask costs more than the fragment: the request context, the session, the locale, the before- and
after-request hooks. So this WSGI wrapper keeps, in each process, the complete answer Flask gave (status, headers,
body; 200 or 304) under everything in the request the answer depends on, and replays it, with a fresh Date, until
the cached fragment it came from expires (COUNTER_CACHE_SECONDS). Only the counter view, and with the in-process
cache the page cache (pagecache.public_page, until PAGE_CACHE_SECONDS or a content change), mark an answer as
replayable, and only answers to cookieless GETs without Set-Cookie are kept: a visitor with a cookie (a session, a
chosen language) always goes through Flask. `counts.forget` empties it in this process; with the in-process cache
the stamp file that empties every process's cache empties it too; with Redis another process may replay an answer
for up to COUNTER_CACHE_SECONDS after a change, as a browser or proxy may under `max-age`.
"""

from __future__ import annotations

import threading
import time
from email.utils import formatdate

from flask import Flask

from petition_app.cache import read_stamp

MARKER = "petition_app.replay_until"  # set by the counter view: the wall-clock time its fragment expires
EXTENSION = "counter_fastpath"
# Request headers (as WSGI keys) the counter's answer may depend on; anything else it ignores.
KEY_FIELDS = ("SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "HTTP_HOST", "wsgi.url_scheme", "HTTP_ACCEPT_LANGUAGE",
              "HTTP_ACCEPT_ENCODING", "HTTP_IF_NONE_MATCH", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
              "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX")


def _date_now(cache: list = [0, ""]) -> str:  # noqa: B006 (one shared slot: the Date of the current second)
    second = int(time.time())
    if cache[0] != second:
        cache[:] = [second, formatdate(second, usegmt=True)]
    return cache[1]


class CounterFastPath:
    def __init__(self, wsgi_app, stamp_path: str | None = None, size: int = 1024) -> None:
        self.wsgi_app = wsgi_app
        self._answers: dict[tuple, tuple[float, str, list[tuple[str, str]], bytes]] = {}
        self._size = size
        self._lock = threading.Lock()
        self._stamp_path = stamp_path
        self._stamp = self._read_stamp()

    def _read_stamp(self) -> tuple[int, int] | None:
        return read_stamp(self._stamp_path)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ:
            return self.wsgi_app(environ, start_response)
        if self._stamp_path:
            stamp = self._read_stamp()
            if stamp != self._stamp:
                with self._lock:
                    self._answers.clear()
                    self._stamp = stamp
        key = tuple(environ.get(name) for name in KEY_FIELDS)
        found = self._answers.get(key)
        if found is not None and found[0] > time.time():
            _until, status, headers, body = found
            start_response(status, [*headers, ("Date", _date_now())])
            return [body]

        answer: dict = {}

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        until = environ.get(MARKER)
        status = answer.get("status", "")
        if (until is None or until <= time.time() or not status.startswith(("200", "304"))
                or any(name.lower() == "set-cookie" for name, _value in answer["headers"])):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(name, value) for name, value in answer["headers"] if name.lower() != "date"]
        with self._lock:
            if len(self._answers) >= self._size:
                now = time.time()
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
                if len(self._answers) >= self._size:
                    self._answers.clear()
            self._answers[key] = (until, status, headers, body)
        return [body]


def init_app(app: Flask, stamp_path: str | None) -> None:
    """Wrap the app's WSGI callable (outermost, so a proxy fix inside it still runs for Flask's own answers)."""
    fast = CounterFastPath(app.wsgi_app, stamp_path)
    app.wsgi_app = fast  # type: ignore[method-assign]
    app.extensions[EXTENSION] = fast


def forget(app: Flask) -> None:
    fast = app.extensions.get(EXTENSION)
    if fast is not None:
        fast.clear()

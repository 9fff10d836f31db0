"""Real Chromium (Debian's /usr/bin/chromium) through pytest-playwright, against the app served on a free port.

Every test gets its own app (``make_app``) with the demo content, served by a real threaded werkzeug server
in a daemon thread. Contexts are phone-sized (390x844 @3x, touch) and point at that server through
``base_url``, so tests can ``page.goto("/campaigns/...")``.

Without /usr/bin/chromium the tests skip, unless REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from petition_app.demo.loader import load_demo
from petition_app.extensions import db

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    # Deterministic language and number format ("7,440"), whatever the machine's locale.
    "locale": "en-US",
}
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test in this folder as a browser test (select with -m browser, or skip with -m 'not browser')."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            # When Chromium drops a connection mid-response (it cancels favicon and polling requests freely),
            # Werkzeug's development server leaves the static file for the garbage collector to close.
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"))


def _require_browser() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "") == "1"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium); browser tests need a real browser"
        if _require_browser():
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-playwright's session-wide base URL: each test's server has its own port.

    (The plugin's fallback fixture is an instance method, which pytest 9 deprecates with a warning that
    filterwarnings=error turns into an error.) ``browser_context_args`` sets the real per-test base URL.
    """
    return None


@pytest.fixture
def browser_context_args(browser_context_args, live_app):
    """Phone contexts pointed at this test's server.

    Function-scoped on purpose: the server lives as long as one test (apps are per test), so the plugin's
    session-scoped ``base_url`` cannot carry it; this value replaces whatever ``--base-url`` gave.
    """
    return {**browser_context_args, **PHONE, "base_url": live_app}


@pytest.fixture
def served_app(make_app):
    """The Flask app behind ``live_app``: demo content loaded, counters polled every second, no counter cache."""
    app = make_app(COUNTER_POLL_SECONDS=1, COUNTER_CACHE_SECONDS=0)
    with app.app_context():
        load_demo()
        db.session.remove()
    return app


@pytest.fixture
def live_app(served_app) -> Iterator[str]:
    """Serve ``served_app`` on 127.0.0.1:<free port> from a daemon thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, served_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots for a human to look at (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

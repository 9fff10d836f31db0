"""Site settings saved through one gunicorn worker show on the next page from every worker, without a restart."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from petition_app.extensions import db
from tests.conftest import ADMIN_PASSWORD, make_user
from tests.live_gunicorn import gunicorn

FORM_FIELD = re.compile(r'<input[^>]*?name="([a-z_]+)"(?:[^>]*?value="([^"]*)")?')


def _form(html: str, **changes) -> bytes:
    fields = {name: value for name, value in FORM_FIELD.findall(html) if name not in ("logo", "remove_logo")}
    return urllib.parse.urlencode({**fields, **changes}).encode()


def test_settings_reach_every_gunicorn_worker_without_restart(tmp_path):
    from petition_app import create_app

    url = f"sqlite:///{tmp_path / 'settings.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path / "instance"),
                      "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024})
    with app.app_context():
        db.create_all()
        make_user("root@example.org", superuser=True)
        db.engine.dispose()
    env = {"DATABASE_URL": url, "SECRET_KEY": "gunicorn settings key", "RATELIMIT_ENABLED": "0",
           "PUBLIC_URL": "http://127.0.0.1", "PAGE_CACHE_SECONDS": "300"}
    with gunicorn(env, workers=2, threads=2) as port:
        base = f"http://127.0.0.1:{port}"

        def visitor_page() -> str:  # a new connection, no cookie: the page cache of whichever worker answers
            with urllib.request.urlopen(f"{base}/faq", timeout=60) as response:
                return response.read().decode()

        assert all('<a class="brand" href="/">Petitions</a>' in visitor_page() for _ in range(12))
        admin = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        login = admin.open(f"{base}/admin/login", timeout=60).read().decode()
        admin.open(f"{base}/admin/login", _form(login, email="root@example.org", password=ADMIN_PASSWORD),
                   timeout=60).read()
        settings = admin.open(f"{base}/admin/settings", timeout=60).read().decode()
        assert "Site settings" in settings
        saved = admin.open(f"{base}/admin/settings", _form(settings, site_name_en="Rights Site",
                                                           primary_colour="#1a5c3a"), timeout=60).read().decode()
        assert "The settings were saved." in saved
        pages = [visitor_page() for _ in range(12)]
        assert all('<a class="brand" href="/">Rights Site</a>' in page for page in pages)
        assert all(re.search(r'<link rel="stylesheet" href="/site\.css\?v=[0-9a-f]{16}">', page) for page in pages)

"""The Nu HTML checker (vnu) reports no error on any page as served: public and admin, English and Russian,
signing pages with live links, error states and done states."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.node_tools import vnu_command
from tests.site_tour import (
    LANGUAGES,
    OWNER,
    admin_pages,
    admin_posts,
    fetch,
    log_in,
    owner_pages,
    prepare_site,
    public_pages,
    public_posts,
)


def _save(folder: Path, visit, language: str, response, saved: dict[str, str]) -> None:
    name = visit.name
    assert response.status_code == visit.status, (name, visit.path, response.status_code)
    assert response.mimetype == "text/html", (name, response.mimetype)
    path = folder / f"{len(saved):03d}-{language}-{''.join(c if c.isalnum() else '-' for c in name)[:60]}.html"
    path.write_bytes(response.get_data())
    saved[str(path)] = f"{name} [{language}]"


def test_every_page_is_valid_html(make_app, tmp_path):
    command = vnu_command()
    app = make_app()
    site = prepare_site(app)
    saved: dict[str, str] = {}
    for language in LANGUAGES:
        client = app.test_client()
        for visit in public_pages(site):
            _save(tmp_path, visit, language, fetch(client, visit, language), saved)
    client = app.test_client()
    for visit in public_posts(site):  # these use up links: once, in English and Russian alternately
        language = LANGUAGES[len(saved) % 2]
        _save(tmp_path, visit, language, fetch(client, visit, language), saved)
    for language in LANGUAGES:
        client = app.test_client()
        log_in(client)
        for visit in admin_pages(app, site):
            _save(tmp_path, visit, language, fetch(client, visit, language), saved)
    client = app.test_client()
    log_in(client)
    for visit in admin_posts(site):
        _save(tmp_path, visit, "en", fetch(client, visit, "en"), saved)
    client = app.test_client()
    log_in(client, OWNER)
    for visit in owner_pages(site):
        _save(tmp_path, visit, "ru", fetch(client, visit, "ru"), saved)
    assert len(saved) > 80, len(saved)

    result = subprocess.run([*command, "--format", "json", "--stdout", *saved], capture_output=True, text=True,
                            timeout=600, check=False)
    messages = json.loads(result.stdout)["messages"]
    errors = [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
    report = "\n".join(
        f"{saved.get(m.get('url', '').removeprefix('file:'), m.get('url'))} line {m.get('lastLine')}: {m['message']}"
        f"  «{m.get('extract', '').strip()[:120]}»"
        for m in errors
    )
    checked = {m.get("url", "").removeprefix("file:") for m in messages}
    assert not errors, f"{len(errors)} Nu HTML checker errors:\n{report}"
    assert result.returncode == 0, result.stderr[-2000:]
    assert checked <= set(saved)

"""Property-based hostile input over every public form and URL parameter: never a 5xx, nothing half-stored."""

from __future__ import annotations

import os
import re
from datetime import date
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from petition_app.extensions import db
from petition_app.models import Campaign, CampaignUpdate, Organisation, OutboxMessage, Signature
from tests.conftest import VALID_SIGNATURE, csrf_token

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# Text that a browser can send: any code point except lone surrogates, with edge cases boosted.
EDGE = ["", " ", "\x00", "\u202e", "\ufeff", "\u200b", "<script>alert(1)</script>", "' OR 1=1 --", "%00",
        "../../etc/passwd", "a" * 5000, "𝕬𝖓𝖓𝖆", "Ａｎｎａ", "\r\nBcc: x@example.org", "{{7*7}}", "${7*7}"]
texts = st.one_of(st.sampled_from(EDGE), st.text(st.characters(exclude_categories=["Cs"]), max_size=300))
FIELDS = ["first_name", "last_name", "email", "country", "phone", "consent_email", "consent_sms", "consent_share",
          "website"]


def _counts():
    db.session.expire_all()
    return (db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one(),
            db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage)).scalar_one())


@pytest.fixture
def target(app, make_campaign):
    make_campaign(slug="target", started_by="A group")
    client = app.test_client()
    return client, csrf_token(client, "/campaigns/target")


@SETTINGS
@given(field=st.sampled_from(FIELDS), value=texts, htmx=st.booleans())
def test_any_single_field_value_is_answered_without_5xx_and_stores_all_or_nothing(target, field, value, htmx):
    client, token = target
    before = _counts()
    data = {**VALID_SIGNATURE, "csrf_token": token, field: value}
    response = client.post("/campaigns/target/sign", data=data, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code < 500
    after = _counts()
    if response.status_code in (200, 303):
        assert after[0] - before[0] in (0, 1)
        if after[0] > before[0]:
            assert after[1] == before[1] + 1  # a stored signature always has its mail queued
    else:
        assert response.status_code in (400, 409, 413, 422, 429)
        assert after == before


@SETTINGS
@given(data=st.dictionaries(st.sampled_from(FIELDS + ["csrf_token", "x", ""]), texts, max_size=12))
def test_any_combination_of_fields_is_answered_without_5xx(target, data):
    client, token = target
    before = _counts()
    response = client.post("/campaigns/target/sign", data={"csrf_token": token, **data})
    assert response.status_code < 500
    if response.status_code not in (200, 303):
        assert _counts() == before


@settings(max_examples=max(50, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=2000))
def test_raw_bodies_and_bad_encodings_are_answered_without_5xx(target, body):
    client, token = target
    before = _counts()
    payload = b"csrf_token=" + token.encode() + b"&" + body
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "text/plain"):
        response = client.post("/campaigns/target/sign", data=payload, content_type=content_type)
        assert response.status_code < 500
    assert _counts()[0] - before[0] in (0, 1)


def test_invalid_utf8_in_fields_is_refused_cleanly(target):
    client, token = target
    body = ("csrf_token=" + token + "&first_name=%FF%FE&last_name=%C3%28&email=a%40example.org&country=DE").encode()
    response = client.post("/campaigns/target/sign", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 422)


url_parts = st.one_of(st.sampled_from(["..", "%2e%2e", "%00", "a" * 3000, "<x>", "target", "'", "%"]),
                      st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/?#"), min_size=1,
                              max_size=80))


@SETTINGS
@given(part=url_parts, query=texts)
def test_url_parameters_never_cause_a_5xx(target, part, query):
    client, _ = target
    from urllib.parse import quote

    p = quote(part, safe="")
    for path in (f"/campaigns/{p}", f"/campaigns/{p}/counter", f"/campaigns/{p}/actions", f"/campaigns/{p}/thanks",
                 f"/language/{p}", f"/s/confirm/{p}", f"/s/withdraw/{p}", f"/s/unsubscribe/{p}"):
        response = client.get(path, query_string={"next": query, "page": query, "q": query})
        assert response.status_code < 500, path
    response = client.get("/language/ru", query_string={"next": query})
    if "\x00" in query:
        assert response.status_code == 400  # NUL bytes are refused at the door
        return
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") or location.startswith("http://localhost/")
    assert not location.startswith("//")


XSS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '"><script>alert(1)</script>',
    "javascript:alert(1)",
    "[click](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "![x](https://evil.example/pixel.png)",
    "<details open ontoggle=alert(1)>",
    "{{ config }}",
]
class ActiveContent(HTMLParser):
    """Collect every element or attribute in a page that could run script, style or load something."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            self.found.append(f"<script {attrs}>")
        if tag in {"iframe", "style", "img", "object", "embed", "math", "svg", "base", "form"} and not (
            tag == "form" and (attrs.get("action") or "").startswith("/")
        ):
            self.found.append(f"<{tag}>")
        for name, value in attrs.items():
            value = (value or "").strip().lower()
            if name.startswith("on") or name == "style" or "xlink" in name:
                self.found.append(f"{tag}[{name}]")
            if name in {"href", "src", "action", "formaction"} and value.startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"{tag}[{name}={value[:30]}]")
            if name == "src" and not value.startswith("/"):
                self.found.append(f"{tag}[src={value[:30]}]")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("payload", XSS)
def test_xss_in_every_campaign_field_comes_out_escaped_or_sanitized(app, payload):
    org = Organisation(slug="xss-org", name=payload)
    partner = Organisation(slug="xss-partner", name=payload)
    campaign = Campaign(
        slug="xss", title=payload, lead=payload, body=payload, quote=payload, quote_attribution=payload,
        petition_heading=payload, targets=payload, petition_text=payload, demands=payload + "\n" + payload,
        petition_closing=payload, delivery_note=payload, started_by=payload, goal=10, status="open",
        organisation=org, partners=[partner],
        updates=[CampaignUpdate(published_on=date(2024, 1, 1), title=payload, body=payload)],
    )
    other = Campaign(slug="other", title=payload, lead=payload, goal=10, status="open", organisation=org)
    db.session.add_all([campaign, other])
    db.session.commit()
    client = app.test_client()
    for path in ("/", "/campaigns/xss", "/campaigns/xss/thanks", "/campaigns/xss/actions", "/campaigns/xss/counter",
                 "/campaigns/other"):
        html = client.get(path).get_data(as_text=True)
        assert active_content(html) == [], path
        assert app.config["SECRET_KEY"] not in html


def test_the_checker_itself_catches_active_content():
    assert active_content('<p><img src=x onerror="alert(1)"></p><a href="javascript:x">y</a><script>z</script>')


# -- requests that once answered 500 ------------------------------------------------------------------------------

HUGE_IDS = [2**31, 2**32, 2**63, 2**64, 10**30]


def test_huge_integer_ids_in_admin_urls_answer_404(app, make_campaign):
    from werkzeug.routing import IntegerConverter

    from tests.conftest import log_in, make_user

    campaign = make_campaign(slug="ids")
    make_user("root@example.org", superuser=True)
    client = log_in(app, "root@example.org")
    assert client.get(f"/admin/campaigns/{campaign.id}").status_code == 200
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = {name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)}
        if not ints or "GET" not in rule.methods:
            continue
        for huge in HUGE_IDS:
            path = rule.rule
            for name in rule.arguments:
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(huge) if name in ints else "x", path)
            response = client.get(path)
            assert response.status_code == 404, (path, response.status_code)
            checked += 1
    assert checked >= 10 * len(HUGE_IDS)


def test_a_nul_in_the_login_email_is_refused_with_a_4xx(app):
    client = app.test_client()
    for email in ("root\x00@example.org", "\x00", "a@example.org\x00' OR 1=1"):
        response = client.post("/admin/login", data={"email": email, "password": "whatever password",
                                                     "csrf_token": csrf_token(client, "/admin/login")})
        assert 400 <= response.status_code < 500, email


def test_cr_lf_in_the_login_next_redirects_safely_without_injecting_headers(app):
    from tests.conftest import ADMIN_PASSWORD, make_user

    make_user("root@example.org", superuser=True)
    for target in ("/admin/\r\nSet-Cookie: evil=1", "/admin/x\nLocation: https://evil.example", "/admin\r",
                   "/admin/\x00", "/admin/\u2028x"):
        client = app.test_client()
        response = client.post("/admin/login", query_string={"next": target},
                               data={"email": "root@example.org", "password": ADMIN_PASSWORD,
                                     "csrf_token": csrf_token(client, "/admin/login")})
        assert response.status_code in (303, 400), target
        if response.status_code == 303:
            assert response.headers["Location"] == "/admin/"
        assert "evil" not in str(response.headers)
    client = app.test_client()
    response = client.post("/admin/login", query_string={"next": "/admin/orgs"},
                           data={"email": "root@example.org", "password": ADMIN_PASSWORD,
                                 "csrf_token": csrf_token(client, "/admin/login")})
    assert response.headers["Location"] == "/admin/orgs"  # a clean target still works


@pytest.mark.parametrize("path", ["/campaigns/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82", "/campaigns/a%0D%0ASet-Cookie:x=1",
                                  "/%E2%80%AE", "/campaigns/%F0%9F%8F%B3%EF%B8%8F%E2%80%8D%F0%9F%8C%88"])
def test_onion_location_is_a_percent_encoded_ascii_header_for_any_path(make_app, path):
    app = make_app(ONION_URL="http://example2345.onion/")
    with app.app_context():
        response = app.test_client().get(path, query_string="q=%D1%8F%0D%0A&x=%C3%A9")
        assert response.status_code == 404
        location = response.headers["Onion-Location"]
        assert location.isascii() and "\r" not in location and "\n" not in location
        assert location.startswith("http://example2345.onion/") and location.endswith("?q=%D1%8F%0D%0A&x=%C3%A9")
        assert location[len("http://example2345.onion"):].split("?")[0] == path


def test_a_real_gunicorn_answers_non_latin1_and_cr_lf_paths_when_onion_url_is_set(tmp_path):
    from petition_app import create_app
    from tests.live_gunicorn import gunicorn, raw_request

    url = f"sqlite:///{tmp_path / 'onion.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    env = {"DATABASE_URL": url, "SECRET_KEY": "gunicorn test key", "ONION_URL": "http://example2345.onion",
           "RATELIMIT_ENABLED": "0", "WEB_CONCURRENCY": "1"}
    with gunicorn(env) as port:
        for path in (b"/campaigns/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82", b"/campaigns/a%0D%0ASet-Cookie:%20x=1",
                     b"/?next=%D1%8F%0D%0A", b"/contact"):
            answer = raw_request(port, b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            status = int(head.split(" ", 2)[1])
            assert status in (200, 404), (path, head)
            onion = [line for line in head.split("\r\n") if line.lower().startswith("onion-location:")]
            assert len(onion) == 1 and onion[0].isascii(), head
            assert not any(line.lower().startswith("set-cookie: x") for line in head.split("\r\n"))


def test_head_answers_like_get_on_every_public_page(app, make_campaign):
    make_campaign(slug="heads")
    from petition_app.models import Organisation

    db.session.execute(sa.update(Organisation).values(slug="host"))
    db.session.commit()
    client = app.test_client()
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.arguments - {"slug"}:
            continue
        path = rule.rule.replace("<slug>", "heads")
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code, (path, get.status_code, head.status_code)
        assert head.get_data() == b""
        checked.append(path)
    assert "/start" in checked and "/start/link" in checked and "/campaigns/heads" in checked


def test_405_answers_say_which_methods_are_allowed(app, make_campaign):
    make_campaign(slug="allow")
    client = app.test_client()
    for path, method, allowed in (("/", "POST", {"GET", "HEAD", "OPTIONS"}),
                                  ("/campaigns/allow/sign", "GET", {"POST", "OPTIONS"}),
                                  ("/campaigns/allow", "DELETE", {"GET", "HEAD", "OPTIONS"})):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(path, method=method, headers=headers)
            assert response.status_code == 405, path
            assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed, path

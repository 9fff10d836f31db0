"""Property-based hostile input over every public form and URL parameter: never a 5xx, nothing half-stored."""

from __future__ import annotations

import os
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

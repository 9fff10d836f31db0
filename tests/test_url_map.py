"""Walk the URL map: every state-changing route needs a CSRF token; every admin URL needs a login."""

from __future__ import annotations

import pytest

TOKEN_AUTHORISED = {"signing.unsubscribe_post"}  # RFC 8058 one-click: the token in the URL authorises it


def _url(rule) -> str:
    from werkzeug.routing import IntegerConverter

    from petition_app.campaign_versions import LanguageConverter

    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = (1 if isinstance(converter, IntegerConverter)
                       else "ru" if isinstance(converter, LanguageConverter) else "x")
    return rule.build(values)[1]


def _rules(app, method):
    return [r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint != "static"]


def test_every_post_route_refuses_a_request_without_csrf_token(app, client):
    checked = []
    for rule in _rules(app, "POST"):
        response = client.post(_url(rule), data={"anything": "1"})
        if rule.endpoint in TOKEN_AUTHORISED:
            assert response.status_code != 400, rule.rule
            continue
        assert response.status_code == 400, (rule.rule, response.status_code)
        checked.append(rule.endpoint)
    assert "signing.sign_view" in checked and len(checked) >= 5


def test_csrf_exemptions_are_exactly_the_token_authorised_routes(app):
    from petition_app.extensions import csrf
    from petition_app.security import PUBLIC_BLUEPRINTS, TOKEN_AUTHORISED_ENDPOINTS

    exempt = {name.rsplit(".", 1)[-1] for name in csrf._exempt_views}
    assert exempt == {e.split(".")[-1] for e in TOKEN_AUTHORISED}
    assert TOKEN_AUTHORISED_ENDPOINTS == TOKEN_AUTHORISED
    # Public blueprints trade Flask-WTF's session token for the same-site rule and the shared token; admin never.
    assert {bp.name for bp in csrf._exempt_blueprints} == set(PUBLIC_BLUEPRINTS)
    assert "admin" not in PUBLIC_BLUEPRINTS


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_admin_url_sends_anonymous_visitors_to_the_login_page(app, client, method):
    from tests.conftest import csrf_token

    token = csrf_token(client, "/admin/login")
    from petition_app.admin import PUBLIC_ENDPOINTS

    rules = [r for r in _rules(app, method) if r.rule.startswith("/admin") and r.endpoint not in PUBLIC_ENDPOINTS]
    assert rules
    for rule in rules:
        if method == "GET":
            response = client.get(_url(rule))
        else:
            response = client.post(_url(rule), data={"csrf_token": token})
        assert response.status_code == 303, (rule.rule, response.status_code)
        assert "/admin/login" in response.headers["Location"]

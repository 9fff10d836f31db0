"""Public forms need no session: cross-site posts are refused by what the browser says, with a shared token."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Signature
from petition_app.security import FORM_TOKEN_BUCKET_SECONDS, public_form_token
from tests.conftest import csrf_token, sign_data


def _rows() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one()


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
    ],
)
def test_cross_site_sign_post_is_refused_and_writes_nothing(client, make_campaign, headers):
    make_campaign(slug="xs")
    data = sign_data(client, "xs")
    response = client.post("/campaigns/xs/sign", data=data, headers=headers)
    assert response.status_code == 400
    assert "came from another site" in response.get_data(as_text=True)
    assert _rows() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # a browser under Referrer-Policy: no-referrer
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_same_site_or_headerless_sign_post_is_accepted_without_any_cookie(client, make_campaign, headers):
    make_campaign(slug="ss")
    data = sign_data(client, "ss")
    response = client.post("/campaigns/ss/sign", data=data, headers=headers)
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers
    assert _rows() == 1


def test_token_of_the_previous_bucket_is_accepted_and_an_older_one_refused(app, client, make_campaign):
    make_campaign(slug="tk")
    bucket = int(time.time() // FORM_TOKEN_BUCKET_SECONDS)
    with app.test_request_context():
        previous, older = public_form_token(bucket - 1), public_form_token(bucket - 2)
    refused = client.post("/campaigns/tk/sign", data=sign_data(client, "tk", csrf_token=older))
    assert refused.status_code == 400 and _rows() == 0
    accepted = client.post("/campaigns/tk/sign", data=sign_data(client, "tk", csrf_token=previous))
    assert accepted.status_code == 303 and _rows() == 1


def test_the_public_token_is_the_same_for_two_visitors_and_sets_no_cookie(app, make_campaign):
    make_campaign(slug="two")
    first, second = app.test_client(), app.test_client()
    assert csrf_token(first, "/campaigns/two") == csrf_token(second, "/campaigns/two")
    assert first.get_cookie("session") is None and second.get_cookie("session") is None


def test_confirm_button_refuses_a_cross_site_post(client, make_campaign):
    from petition_app import tokens
    from petition_app.signing.service import SignatureInput, sign

    campaign = make_campaign(slug="cf")
    sign(campaign, SignatureInput("A", "B", "a@example.org", "FR"))
    signature = db.session.execute(sa.select(Signature)).scalar_one()
    raw = tokens.issue(tokens.CONFIRM, 30, signature_id=signature.id)
    db.session.commit()
    path = f"/s/confirm/{raw}"
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).confirmed_at is None
    accepted = client.post(path, data={"csrf_token": token}, headers={"Sec-Fetch-Site": "same-origin"})
    assert accepted.status_code == 200
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).confirmed_at is not None


def test_admin_posts_keep_the_per_session_token_and_refuse_the_public_one(app, client):
    public = csrf_token(app.test_client(), "/")
    login_page = client.get("/admin/login")
    assert "session=" in login_page.headers["Set-Cookie"]
    assert csrf_token(client, "/admin/login") != public
    response = client.post("/admin/login", data={"email": "a@example.org", "password": "x", "csrf_token": public})
    assert response.status_code == 400

"""Every admin URL (enumerated from the URL map) against every role, and across organisations."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from petition_app import mailings
from petition_app.admin import PUBLIC_ENDPOINTS
from petition_app.extensions import db
from petition_app.models import (
    Campaign,
    CampaignStatus,
    CampaignTranslation,
    CampaignUpdate,
    Invitation,
    Membership,
    Organisation,
    Role,
    Starter,
    StarterState,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from petition_app.passwords import hash_password
from petition_app.signing.service import SignatureInput, sign
from tests.conftest import csrf_token

PASSWORD = "a long enough password"
USERS = ["viewer_a", "editor_a", "owner_a", "owner_b", "superuser"]


def _user(email, superuser=False, **memberships):
    user = User(email=email, password_hash=hash_password(PASSWORD), is_superuser=superuser)
    db.session.add(user)
    db.session.flush()
    for org, role in memberships.items():
        db.session.add(Membership(user_id=user.id, organisation_id=org, role=role))
    return user


@pytest.fixture
def world(make_app):
    app = make_app(STARTER_HOST_ORG="org-a")
    with app.app_context():
        a, b = Organisation(slug="org-a", name="A"), Organisation(slug="org-b", name="B")
        db.session.add_all([a, b])
        db.session.flush()
        campaigns = {}
        for org in (a, b):
            campaign = Campaign(slug=f"c-{org.slug}", title="T", goal=10, status=CampaignStatus.OPEN, organisation=org,
                                started_by="Group",
                                updates=[CampaignUpdate(published_on=date(2024, 1, 1), body="u")])
            db.session.add(campaign)
            db.session.flush()
            db.session.add(CampaignTranslation(campaign_id=campaign.id, language="ru", title="Т"))
            db.session.add(Starter(campaign_id=campaign.id, public_name="Group", email="s@example.org",
                                   email_hash="x" * 64, state=StarterState.PENDING))
            campaigns[org.slug] = campaign
        users = {
            "viewer_a": _user("viewer_a@example.org"),
            "editor_a": _user("editor_a@example.org"),
            "owner_a": _user("owner_a@example.org"),
            "owner_b": _user("owner_b@example.org"),
            "superuser": _user("super@example.org", superuser=True),
        }
        for name, org, role in [("viewer_a", a, Role.VIEWER), ("editor_a", a, Role.EDITOR),
                                ("owner_a", a, Role.OWNER), ("owner_b", b, Role.OWNER)]:
            db.session.add(Membership(user_id=users[name].id, organisation_id=org.id, role=role))
        for org in (a, b):
            db.session.add(Invitation(organisation_id=org.id, email=f"invitee@{org.slug}.example.org",
                                      role=Role.VIEWER, token_hash=org.slug.ljust(64, "0"),
                                      expires_at=datetime.now(timezone.utc) + timedelta(days=1)))
            endpoint = WebhookEndpoint(organisation_id=org.id, url=f"https://{org.slug}.example.org/hook",
                                       secret=b"sealed", events="signature.confirmed")
            db.session.add(endpoint)
            db.session.flush()
            db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_type="signature.confirmed",
                                           webhook_id=f"msg_{org.slug}", payload=b"sealed", status="failed"))
        db.session.commit()
        for campaign in campaigns.values():
            sign(campaign, SignatureInput("Anna", "Test", f"anna@{campaign.slug}.example.org", "DE"))
        emails = {name: user.email for name, user in users.items()}
        ids = {}
        for slug, campaign in campaigns.items():
            ids[slug] = {
                "campaign_id": campaign.id,
                "org_slug": slug,
                "update_id": campaign.updates[0].id,
                "signature_id": db.session.execute(sa.text(
                    "select id from signatures where campaign_id = :c"), {"c": campaign.id}).scalar_one(),
                "membership_id": db.session.execute(sa.select(Membership.id).where(
                    Membership.organisation_id == campaign.organisation_id)).scalars().first(),
                "starter_id": db.session.execute(sa.select(Starter.id).where(
                    Starter.campaign_id == campaign.id)).scalar_one(),
                "invitation_id": db.session.execute(sa.select(Invitation.id).where(
                    Invitation.organisation_id == campaign.organisation_id)).scalar_one(),
                "endpoint_id": db.session.execute(sa.select(WebhookEndpoint.id).where(
                    WebhookEndpoint.organisation_id == campaign.organisation_id)).scalar_one(),
                "delivery_id": db.session.execute(sa.select(WebhookDelivery.id).join(WebhookEndpoint).where(
                    WebhookEndpoint.organisation_id == campaign.organisation_id)).scalar_one(),
                "name": "privacy",
                "language": "en",
                "version": "ru",  # a campaign's version in another language (admin/translations.py)
                "mailing_id": mailings.create(campaign, {campaign.language: ("Subject", "Text")}).id,
            }
        db.session.commit()
    clients = {}
    for name, email in emails.items():
        client = app.test_client()
        response = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                                      "csrf_token": csrf_token(client, "/admin/login")})
        assert response.status_code == 303, name
        clients[name] = client
    return app, clients, ids


def allowed(required, user: str) -> bool:
    if user == "superuser":
        return True
    role_in_a = {"viewer_a": Role.VIEWER, "editor_a": Role.EDITOR, "owner_a": Role.OWNER}.get(user)
    if required == "member":
        return True
    if required in ("superuser",):
        return False
    if required == "moderator":  # editors of the hosting organisation (org-a)
        return role_in_a is not None and role_in_a.rank >= Role.EDITOR.rank
    return role_in_a is not None and role_in_a.rank >= required.rank


def admin_rules(app, method):
    return [r for r in app.url_map.iter_rules()
            if r.rule.startswith("/admin") and method in r.methods and r.endpoint not in PUBLIC_ENDPOINTS]


def test_every_admin_view_declares_its_access_rule(world):
    app, _, _ = world
    for rule in admin_rules(app, "GET") + admin_rules(app, "POST"):
        if rule.endpoint == "admin.logout":
            continue
        assert hasattr(app.view_functions[rule.endpoint], "required_role"), rule.rule


def test_every_admin_page_answers_each_role_as_its_access_rule_says(world):
    app, clients, ids = world
    checked = 0
    for rule in admin_rules(app, "GET"):
        required = app.view_functions[rule.endpoint].required_role
        url = rule.build({k: ids["org-a"][k] for k in rule.arguments})[1]
        for user in USERS:
            status = clients[user].get(url).status_code
            expected = allowed(required, user)
            if rule.endpoint == "admin.campaign_new" and user == "viewer_a":
                expected = False  # edits for no organisation
            assert status < 500, (url, user, status)
            assert (status != 404) == expected, (url, user, status)
            checked += 1
    assert checked >= 5 * 15


def test_members_of_one_organisation_cannot_reach_anothers_data_by_any_url(world):
    app, clients, ids = world
    token = csrf_token(clients["owner_b"], "/admin/")
    for rule in admin_rules(app, "GET") + admin_rules(app, "POST"):
        required = app.view_functions[rule.endpoint].required_role
        if required in ("member",) or not rule.arguments:
            continue
        url = rule.build({k: ids["org-a"][k] for k in rule.arguments})[1]
        if "GET" in rule.methods:
            assert clients["owner_b"].get(url).status_code == 404, url
        response = clients["owner_b"].post(url, data={"csrf_token": token})
        assert response.status_code in (404, 405), (url, response.status_code)
    # nothing of org A changed
    with app.app_context():
        assert db.session.get(Campaign, ids["org-a"]["campaign_id"]).status == CampaignStatus.OPEN
        assert db.session.execute(sa.select(sa.func.count()).select_from(Membership)).scalar_one() == 4


def test_mixing_ids_of_two_organisations_in_one_url_is_refused(world):
    app, clients, ids = world
    a, b = ids["org-a"], ids["org-b"]
    owner = clients["owner_a"]
    for path in (f"/admin/campaigns/{a['campaign_id']}/updates/{b['update_id']}/edit",
                 f"/admin/campaigns/{a['campaign_id']}/signatures/{b['signature_id']}/delete"):
        assert owner.get(path).status_code == 404, path
    token = csrf_token(owner, "/admin/")
    response = owner.post(f"/admin/orgs/org-a/members/{b['membership_id']}/remove", data={"csrf_token": token})
    assert response.status_code == 404

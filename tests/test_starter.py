"""Start your campaign: proposals, confirmation, moderation, the starter's dashboard and delivery list, abuse limits.

Mails go through a real SMTP server (aiosmtpd) and the worker, as in test_mail.py.
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from petition_app.campaigns.service import slug_base
from petition_app.extensions import db
from petition_app.models import (
    AuditEntry,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Organisation,
    OutboxMessage,
    Role,
    Starter,
    StarterState,
    Token,
)
from petition_app.starter import service
from tests.conftest import csrf_token, log_in, make_org, make_user, sign_data
from tests.mailbox import html_part, text_part
from tests.test_hostile_input import SETTINGS, XSS, active_content, texts

STARTER_EMAIL = "starter.private@example.org"
PROPOSAL = {
    "public_name": "Coming Out LGBT group",
    "email": STARTER_EMAIL,
    "title": "No more closed doors for Russian transgender people",
    "lead": "The EU must urgently offer asylum.",
    "body": "Russia's new law stops trans people from **changing gender markers**. See https://example.org/report.",
    "targets": "EU commissioners",
    "demands": "Allow asylum based on gender identity\nEstablish a dialogue with trans initiatives",
    "goal": "5000",
    "language": "en",
    "agree_terms": "y",
}


# -- fixtures and helpers ----------------------------------------------------------------------------------------------


@pytest.fixture
def host(app) -> Organisation:
    return make_org("host", "Host Organisation")


@pytest.fixture
def mail_host(mail_app) -> Organisation:
    return make_org("host", "Host Organisation")


def moderator(app, org: Organisation):
    make_user("editor@host.example", (org, Role.EDITOR))
    return log_in(app, "editor@host.example")


def propose(client, **fields):
    data = {**PROPOSAL, **fields}
    data.setdefault("csrf_token", csrf_token(client, "/start"))
    return client.post("/start", data=data)


def run_worker(app) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def path_of(text: str, kind: str) -> str:
    match = re.search(rf"https?://\S+/start/{kind}/[A-Za-z0-9_-]+", text)
    assert match, f"no {kind} link in:\n{text}"
    return urlsplit(match.group(0)).path


def post(client, path: str, data: dict | None = None, page: str | None = None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page or path)})


def only_starter() -> Starter:
    db.session.expire_all()
    return db.session.execute(sa.select(Starter)).scalar_one()


def counts() -> tuple[int, int, int, int]:
    db.session.expire_all()
    return tuple(db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
                 for model in (Campaign, Starter, Token, OutboxMessage))


def approve_the_proposal() -> tuple[Starter, str]:
    """Confirm and approve the only proposal through the service; returns it and the path of a dashboard link."""
    starter = only_starter()
    service.confirm(starter)
    service.approve(starter)
    raw = service.tokens.issue(service.DASHBOARD, 365, starter_id=starter.id)
    db.session.commit()
    return only_starter(), f"/start/dashboard/{raw}"


def approved_starter(app) -> tuple[Starter, str]:
    """Propose through the form, then confirm and approve."""
    assert propose(app.test_client()).status_code == 303
    return approve_the_proposal()


# -- the whole path ---------------------------------------------------------------------------------------------------


def test_whole_path_from_proposal_to_a_delivery_list_of_consenting_signers_only(mail_app, mail_host, smtp):
    visitor = mail_app.test_client()
    response = propose(visitor)
    assert response.status_code == 303 and response.headers["Location"] == "/start/sent"
    assert "Check your mailbox" in visitor.get("/start/sent").get_data(as_text=True)
    starter = only_starter()
    campaign = starter.campaign
    assert starter.state == StarterState.UNCONFIRMED and campaign.status == CampaignStatus.DRAFT
    assert campaign.organisation_id == mail_host.id
    assert campaign.started_by == "Coming Out LGBT group"
    assert campaign.slug == "no-more-closed-doors-for-russian-transgender-people"
    assert campaign.delivery_note.startswith("Signatures will be delivered by Coming Out LGBT group.")
    assert visitor.get(f"/campaigns/{campaign.slug}").status_code == 404  # nothing public before approval

    # The confirmation mail reaches the starter; a GET of its link confirms nothing.
    run_worker(mail_app)
    [confirm_mail] = smtp.box.messages
    assert smtp.box.envelopes[0].rcpt_tos == [STARTER_EMAIL]
    assert confirm_mail["Subject"].strip() == f"Please confirm your email address: {campaign.title}"
    confirm_path = path_of(text_part(confirm_mail), "confirm")
    assert confirm_path in html_part(confirm_mail)
    page = visitor.get(confirm_path)
    assert page.status_code == 200 and "Confirm my email" in page.get_data(as_text=True)
    assert only_starter().state == StarterState.UNCONFIRMED

    editor = moderator(mail_app, mail_host)
    assert "No proposals are waiting." in editor.get("/admin/moderation").get_data(as_text=True)

    done = post(visitor, confirm_path)
    assert done.status_code == 200 and "Your address is confirmed" in done.get_data(as_text=True)
    assert post(visitor, confirm_path).status_code == 200  # confirming again is harmless
    starter = only_starter()
    assert starter.state == StarterState.PENDING and starter.confirmed_at is not None

    # The moderator sees it in the queue and approves it.
    queue = editor.get("/admin/moderation").get_data(as_text=True)
    assert campaign.title in queue and f"/admin/moderation/{starter.id}" in queue
    approved = post(editor, f"/admin/moderation/{starter.id}/approve", page=f"/admin/moderation/{starter.id}")
    assert approved.status_code == 303
    starter = only_starter()
    assert starter.state == StarterState.APPROVED and starter.decided_at is not None
    assert starter.campaign.status == CampaignStatus.OPEN

    run_worker(mail_app)
    approved_mail = smtp.box.messages[-1]
    assert smtp.box.envelopes[-1].rcpt_tos == [STARTER_EMAIL]
    assert approved_mail["Subject"].strip() == f"Your campaign is online: {campaign.title}"  # may be folded
    dashboard = path_of(text_part(approved_mail), "dashboard")
    assert f"http://localhost/campaigns/{campaign.slug}" in text_part(approved_mail)

    # The campaign is public with its starter; supporters sign, some agreeing to share their name.
    campaign.count_confirmed_only = False  # the organisation opted in to counting (and listing) unconfirmed signers
    db.session.commit()
    public = visitor.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Campaign started by" in public and "Coming Out LGBT group" in public
    assert "started by a third party" in public and 'name="consent_share"' in public
    signers = [("Anna", "Ivanova", "anna@example.org", "DE", True), ("Boris", "Petrov", "boris@example.org", "FR", False),
               ("Chloé", "Martin", "chloe@example.org", "FR", True), ("Dmitri", "Sokolov", "dmitri@example.org", "RU", False)]
    for first, last, email, country, share in signers:
        fields = {"first_name": first, "last_name": last, "email": email, "country": country}
        if share:
            fields["consent_share"] = "y"
        client = mail_app.test_client()
        assert client.post(f"/campaigns/{campaign.slug}/sign", data=sign_data(client, campaign.slug, **fields)
                           ).status_code == 303

    page = visitor.get(dashboard)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"http://localhost/campaigns/{campaign.slug}" in html
    assert re.search(r'<strong>4</strong>\s*people have signed', html)
    assert re.search(r"France</td><td class=\"num\">2<", html) and re.search(r"Germany</td><td class=\"num\">1<", html)
    assert "2 signers agreed to share" in html
    assert "Boris" not in html and "anna@example.org" not in html

    export = visitor.get(dashboard + "/delivery.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["first_name", "last_name", "country"]
    assert sorted(rows[1:]) == [["Anna", "Ivanova", "DE"], ["Chloé", "Martin", "FR"]]
    printable = visitor.get(dashboard + "/delivery").get_data(as_text=True)
    assert "Ivanova" in printable and "Martin" in printable
    assert "Petrov" not in printable and "Sokolov" not in printable and "@example.org" not in printable


def test_unconfirmed_proposals_are_not_in_the_queue_and_not_reachable_by_moderators(app, host):
    assert propose(app.test_client()).status_code == 303
    starter = only_starter()
    editor = moderator(app, host)
    queue = editor.get("/admin/moderation").get_data(as_text=True)
    assert PROPOSAL["title"] not in queue
    assert editor.get(f"/admin/moderation/{starter.id}").status_code == 404
    assert post(editor, f"/admin/moderation/{starter.id}/approve", page="/admin/moderation").status_code == 404
    assert only_starter().state == StarterState.UNCONFIRMED


def test_rejection_mails_the_reason_and_publishes_nothing(mail_app, mail_host, smtp):
    assert propose(mail_app.test_client()).status_code == 303
    starter = only_starter()
    service.confirm(starter)
    editor = moderator(mail_app, mail_host)
    page = f"/admin/moderation/{starter.id}"

    missing = post(editor, f"{page}/reject", {"reject-reason": "  "}, page=page)
    assert missing.status_code == 422 and "Please give a reason" in missing.get_data(as_text=True)
    too_long = post(editor, f"{page}/reject", {"reject-reason": "x" * 2001}, page=page)
    assert too_long.status_code == 422
    assert only_starter().state == StarterState.PENDING

    reason = "This site only hosts campaigns about LGBT+ rights.\nPlease try another platform."
    assert post(editor, f"{page}/reject", {"reject-reason": reason}, page=page).status_code == 303
    starter = only_starter()
    assert starter.state == StarterState.REJECTED and starter.reason == reason
    assert starter.campaign.status == CampaignStatus.DRAFT
    assert mail_app.test_client().get(f"/campaigns/{starter.campaign.slug}").status_code == 404
    run_worker(mail_app)
    rejected = smtp.box.messages[-1]
    assert smtp.box.envelopes[-1].rcpt_tos == [STARTER_EMAIL]
    assert rejected["Subject"].startswith("About your campaign proposal")
    assert "This site only hosts campaigns about LGBT+ rights." in text_part(rejected)
    assert "Please try another platform." in html_part(rejected)
    # A decided proposal cannot be decided again.
    assert post(editor, f"{page}/approve", page=page).status_code == 409


def test_take_down_closes_the_campaign_mails_the_reason_and_ends_dashboard_access(mail_app, mail_host, smtp):
    starter, dashboard = approved_starter(mail_app)
    assert mail_app.test_client().get(dashboard).status_code == 200
    editor = moderator(mail_app, mail_host)
    page = f"/admin/moderation/{starter.id}"
    assert post(editor, f"{page}/take-down", {"take_down-reason": ""}, page=page).status_code == 422
    response = post(editor, f"{page}/take-down", {"take_down-reason": "Hate speech in the comments it links to."},
                    page=page)
    assert response.status_code == 303
    starter = only_starter()
    assert starter.state == StarterState.TAKEN_DOWN and starter.campaign.status == CampaignStatus.CLOSED
    assert starter.campaign.closed_at is not None
    visitor = mail_app.test_client()
    slug = starter.campaign.slug
    assert visitor.get(f"/campaigns/{slug}").status_code == 404  # taken down: no longer public at all
    assert visitor.get(f"/campaigns/{slug}/counter").status_code == 404
    assert slug not in visitor.get("/").get_data(as_text=True)
    assert mail_app.test_client().get(dashboard).status_code == 404
    run_worker(mail_app)
    assert "Hate speech in the comments it links to." in text_part(smtp.box.messages[-1])
    assert smtp.box.messages[-1]["Subject"].startswith("Your campaign was taken down")


# -- hostile content ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", XSS)
def test_xss_in_every_field_comes_out_escaped_or_sanitized_after_approval(app, host, payload):
    fields = {name: payload for name in ("public_name", "title", "lead", "body", "targets", "demands")}
    response = propose(app.test_client(), **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    starter, dashboard = approve_the_proposal()
    client = app.test_client()
    slug = starter.campaign.slug
    editor = moderator(app, host)
    pages = [(client, p) for p in ("/", f"/campaigns/{slug}", f"/campaigns/{slug}/actions", f"/campaigns/{slug}/thanks",
                                   dashboard, dashboard + "/delivery")]
    pages += [(editor, "/admin/moderation"), (editor, f"/admin/moderation/{starter.id}")]
    for who, path in pages:
        response = who.get(path)
        assert response.status_code == 200, path
        assert active_content(response.get_data(as_text=True)) == [], path


def test_too_many_links_are_refused_with_422_and_nothing_is_stored(app, host):
    before = counts()
    body = "Read https://a.example, http://b.example, www.c.example, https://www.d.example, www.e.example and " \
           "HTTPS://F.EXAMPLE"
    response = propose(app.test_client(), body=body)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please use at most 5 links (this text has 6)." in html
    assert 'aria-describedby="body-hint body-error"' in html
    assert counts() == before
    assert propose(app.test_client(), body=body.rsplit(" and ", 1)[0]).status_code == 303  # five are fine


def test_too_long_body_is_refused_with_422_and_nothing_is_stored(make_app):
    app = make_app(STARTER_MAX_BODY=100)
    with app.app_context():
        make_org("host")
        before = counts()
        response = propose(app.test_client(), body="x" * 101)
        assert response.status_code == 422 and "Please keep this under 100 characters." in response.get_data(as_text=True)
        assert counts() == before
        assert propose(app.test_client(), body="x" * 100).status_code == 303


@pytest.mark.parametrize(("field", "value"), [
    ("title", "Stop\x00the ban"), ("public_name", "Group\u202eevil"), ("email", "a\x07@example.org"),
    ("lead", "Lead\x1b[31m"), ("body", "Body\ufeff"), ("targets", "E\x0bU"), ("demands", "One\x00\nTwo"),
])
def test_control_characters_are_refused_with_422_and_nothing_is_stored(app, host, field, value):
    before = counts()
    response = propose(app.test_client(), **{field: value})
    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("goal", "0", "between 1 and 10000000"), ("goal", "10000001", "between 1 and 10000000"), ("goal", "many", ""),
    ("demands", "\n".join(f"demand {i}" for i in range(21)), "at most 20 demands"),
    ("title", "t" * 301, "under 300"), ("public_name", "n" * 201, "under 200"), ("lead", "l" * 1001, "under 1000"),
    ("agree_terms", "", "accept the terms"), ("language", "xx", ""), ("email", "not-an-email", "email address"),
])
def test_invalid_fields_answer_422_with_the_message_at_the_field(app, host, field, value, message):
    data = {**PROPOSAL, field: value}
    if not value:
        data.pop(field)
    client = app.test_client()
    data["csrf_token"] = csrf_token(client, "/start")
    response = client.post("/start", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert counts()[:2] == (0, 0)


@SETTINGS
@given(field=st.sampled_from([*PROPOSAL, "website"]), value=texts, htmx=st.booleans())
def test_any_single_field_value_is_answered_without_5xx_and_stores_all_or_nothing(app, host, field, value, htmx):
    client = app.test_client()
    token = csrf_token(client, "/start")
    before = counts()
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post("/start", data={**PROPOSAL, field: value, "csrf_token": token}, headers=headers)
    check = client.post(f"/start/check?field={field}", data={**PROPOSAL, field: value, "csrf_token": token},
                        headers={"HX-Request": "true"})
    assert response.status_code < 500 and check.status_code in (200, 404)
    after = counts()
    if response.status_code == 422:
        assert after == before
    else:
        assert response.status_code in (200, 303)
        stored = after[0] - before[0]
        assert stored in (0, 1) and after == tuple(n + stored for n in before)  # campaign, starter, token, mail


def test_honeypot_gets_the_usual_answer_and_nothing_is_stored(app, host):
    before = counts()
    response = propose(app.test_client(), website="http://spam.example")
    assert response.status_code == 303 and response.headers["Location"] == "/start/sent"
    client = app.test_client()
    fragment = client.post("/start", data={**PROPOSAL, "website": "x", "csrf_token": csrf_token(client, "/start")},
                           headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Check your mailbox" in fragment.get_data(as_text=True)
    assert counts() == before


def test_without_any_organisation_starting_is_not_available(app):
    response = app.test_client().get("/start")
    assert response.status_code == 503
    assert "Starting campaigns is not available yet" in response.get_data(as_text=True)


def test_host_organisation_comes_from_the_configuration_else_the_first_one(make_app):
    app = make_app(STARTER_HOST_ORG="second")
    with app.app_context():
        make_org("first")
        second = make_org("second")
        assert service.host_organisation().id == second.id
        app.config["STARTER_HOST_ORG"] = "missing"
        assert service.host_organisation().slug == "first"


def test_slugs_are_transliterated_and_unique(app, host):
    assert slug_base("Россия: стоп!") == "rossiia-stop"
    assert slug_base("Ça, c’est la fête") == "ca-cest-la-fete"
    assert slug_base("🌈🌈") == ""
    for _ in range(3):
        assert propose(app.test_client(), title="Free them").status_code == 303
    assert propose(app.test_client(), title="🌈").status_code == 303
    slugs = db.session.execute(sa.select(Campaign.slug).order_by(Campaign.id)).scalars().all()
    assert slugs[:3] == ["free-them", "free-them-2", "free-them-3"]
    assert re.fullmatch(r"campaign-[0-9a-f]{8}", slugs[3])


# -- htmx ---------------------------------------------------------------------------------------------------------------


def test_htmx_check_answers_one_field_wrapper_with_its_message(app, host):
    client = app.test_client()
    token = csrf_token(client, "/start")
    response = client.post("/start/check?field=email", data={**PROPOSAL, "email": "nope", "title": ""},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div class="field has-error" id="email-field"')
    assert "This does not look like an email address" in html and "<html" not in html
    assert "Please give your petition a title" not in html  # only the field asked about
    ok = client.post("/start/check?field=email", data=PROPOSAL, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert "field-error" not in ok.get_data(as_text=True)
    assert client.post("/start/check?field=website", data=PROPOSAL,
                       headers={"HX-Request": "true", "X-CSRFToken": token}).status_code == 404
    assert counts()[:2] == (0, 0)


def test_htmx_submit_swaps_the_form_region(app, host):
    client = app.test_client()
    token = csrf_token(client, "/start")
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    bad = client.post("/start", data={**PROPOSAL, "title": ""}, headers=headers)
    assert bad.status_code == 422 and bad.get_data(as_text=True).lstrip().startswith('<div id="start-region">')
    assert "HX-Request" in bad.headers["Vary"]
    good = client.post("/start", data=PROPOSAL, headers=headers)
    html = good.get_data(as_text=True)
    assert good.status_code == 200 and "Check your mailbox" in html and "<html" not in html
    assert counts()[:2] == (1, 1)


# -- privacy ---------------------------------------------------------------------------------------------------------


def test_the_starters_email_appears_on_no_page(app, host):
    starter, dashboard = approved_starter(app)
    service.post_update(starter, "News", "We met the commissioner.")
    slug = starter.campaign.slug
    editor = moderator(app, host)
    superuser = make_user("root@example.org", superuser=True)
    admin = log_in(app, superuser.email)
    client = app.test_client()
    pages = [(client, p) for p in ("/", f"/campaigns/{slug}", f"/campaigns/{slug}/thanks",
                                   f"/campaigns/{slug}/actions", dashboard, dashboard + "/delivery", "/start")]
    pages += [(who, p) for who in (editor, admin) for p in (
        "/admin/", "/admin/moderation", f"/admin/moderation/{starter.id}", f"/admin/campaigns/{starter.campaign_id}",
        f"/admin/campaigns/{starter.campaign_id}/edit", "/admin/orgs/host/audit")]
    for who, path in pages:
        response = who.get(path)
        assert response.status_code in (200, 404), path
        text = response.get_data(as_text=True).lower()
        assert STARTER_EMAIL not in text and "starter.private" not in text, path
    entries = db.session.execute(sa.select(AuditEntry.target, AuditEntry.detail)).all()
    assert entries and all(STARTER_EMAIL not in f"{target} {detail}" for target, detail in entries)


def test_a_member_who_may_not_moderate_gets_404_everywhere_in_moderation(app, host):
    other = make_org("other")
    starter, _dashboard = approved_starter(app)
    make_user("viewer@host.example", (host, Role.VIEWER), (other, Role.OWNER))
    viewer = log_in(app, "viewer@host.example")
    assert ">Moderation<" not in viewer.get("/admin/").get_data(as_text=True)
    base = f"/admin/moderation/{starter.id}"
    assert viewer.get("/admin/moderation").status_code == 404
    assert viewer.get(base).status_code == 404
    for action in ("approve", "reject", "take-down", "links/revoke", "links/renew", "updates/1/approve",
                   "updates/1/delete"):
        assert post(viewer, f"{base}/{action}", {"reject-reason": "x", "take_down-reason": "x"},
                    page="/admin/").status_code == 404, action
    assert only_starter().state == StarterState.APPROVED
    assert app.test_client().get("/admin/moderation").status_code == 303  # to the login page

    editor = moderator(app, host)
    assert ">Moderation<" in editor.get("/admin/").get_data(as_text=True)
    assert editor.get(base).status_code == 200


def test_dashboard_token_of_another_purpose_is_404(app, host):
    assert propose(app.test_client()).status_code == 303
    starter = only_starter()
    raw = service.tokens.issue(service.CONFIRM, 30, starter_id=starter.id)
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/start/confirm/{raw}").status_code == 200
    for path in (f"/start/dashboard/{raw}", f"/start/dashboard/{raw}/delivery.csv", f"/start/dashboard/{raw}/delivery",
                 "/start/dashboard/" + "x" * 300, "/start/confirm/nope", "/start/confirm/%00",
                 "/start/dashboard/%00%ff/delivery.csv"):
        assert client.get(path).status_code == 404, path


def test_revoked_links_stop_working_and_a_renewed_link_works(mail_app, mail_host, smtp):
    starter, dashboard = approved_starter(mail_app)
    run_worker(mail_app)
    mailed = path_of(text_part(smtp.box.messages[-1]), "dashboard")
    client = mail_app.test_client()
    assert client.get(dashboard).status_code == 200 and client.get(mailed).status_code == 200
    editor = moderator(mail_app, mail_host)
    page = f"/admin/moderation/{starter.id}"
    assert post(editor, f"{page}/links/revoke", page=page).status_code == 303
    for path in (dashboard, mailed, dashboard + "/delivery.csv"):
        assert client.get(path).status_code == 404
    assert post(editor, f"{page}/links/renew", page=page).status_code == 303
    run_worker(mail_app)
    renewed = path_of(text_part(smtp.box.messages[-1]), "dashboard")
    assert smtp.box.envelopes[-1].rcpt_tos == [STARTER_EMAIL]
    assert client.get(renewed).status_code == 200 and client.get(mailed).status_code == 404
    actions = db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert "starter links revoked" in actions and "starter links renewed" in actions


def test_link_request_answers_the_same_and_mails_only_the_stored_address(mail_app, mail_host, smtp):
    approved_starter(mail_app)
    run_worker(mail_app)
    sent_before = len(smtp.box.envelopes)
    answers = []
    for address in ("STARTER.private@example.org", "nobody@example.org"):
        client = mail_app.test_client()
        response = post(client, "/start/link", {"email": address})
        assert response.status_code == 200
        answers.append(re.sub(r'value="[^"]+"|"X-CSRFToken": "[^"]+"', "", response.get_data(as_text=True)))
    assert answers[0] == answers[1] and "Check your mailbox" in answers[0]
    run_worker(mail_app)
    assert len(smtp.box.envelopes) == sent_before + 1
    assert smtp.box.envelopes[-1].rcpt_tos == [STARTER_EMAIL]
    assert mail_app.test_client().get(path_of(text_part(smtp.box.messages[-1]), "dashboard")).status_code == 200


def test_proposals_are_rate_limited_per_client_and_per_email(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_START="2 per hour")
    with app.app_context():
        make_org("host")
        client = app.test_client()
        assert propose(client, title="").status_code == 422  # corrections do not use up the limit
        assert [propose(client, email=f"s{i}@example.org").status_code for i in range(3)] == [303, 303, 429]
        codes = []  # the same address from three different clients
        for i in range(3):
            other = app.test_client()
            token = csrf_token(other, "/start")
            codes.append(other.post("/start", data={**PROPOSAL, "email": "Same@Example.org", "csrf_token": token},
                                    environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code)
        assert codes == [303, 303, 429]


# -- the dashboard ---------------------------------------------------------------------------------------------------


def test_starter_updates_wait_for_a_moderator(app, host):
    starter, dashboard = approved_starter(app)
    client = app.test_client()
    response = post(client, dashboard, {"title": "We met them", "body": "The **commissioner** listened."})
    assert response.status_code == 303
    slug = starter.campaign.slug
    assert "The <strong>commissioner</strong>" not in app.test_client().get(f"/campaigns/{slug}").get_data(as_text=True)
    assert "Waiting for review" in client.get(dashboard).get_data(as_text=True)
    assert post(client, dashboard, {"body": ""}).status_code == 422
    [update] = db.session.execute(sa.select(CampaignUpdate)).scalars().all()
    assert update.approved is False

    editor = moderator(app, host)
    page = f"/admin/moderation/{starter.id}"
    queue = editor.get("/admin/moderation").get_data(as_text=True)
    assert "Updates from starters waiting for review" in queue and starter.campaign.title in queue
    assert "We met them" in editor.get(page).get_data(as_text=True)
    assert post(editor, f"{page}/updates/{update.id}/approve", page=page).status_code == 303
    assert "The <strong>commissioner</strong>" in app.test_client().get(f"/campaigns/{slug}").get_data(as_text=True)

    post(client, dashboard, {"body": "Spam"})
    spam = db.session.execute(sa.select(CampaignUpdate.id).where(CampaignUpdate.body == "Spam")).scalar_one()
    assert post(editor, f"{page}/updates/{spam}/delete", page=page).status_code == 303
    db.session.expire_all()
    assert db.session.get(CampaignUpdate, spam) is None


def test_delivery_csv_defuses_formulas(app, host):
    starter, dashboard = approved_starter(app)
    from petition_app.signing.service import SignatureInput, sign

    starter.campaign.count_confirmed_only = False  # unconfirmed signers are listed too
    db.session.commit()
    for i, first in enumerate(["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "Plain"]):
        sign(starter.campaign, SignatureInput(first, "Last", f"f{i}@example.org", "DE", consent_share=True))
    rows = list(csv.reader(io.StringIO(app.test_client().get(dashboard + "/delivery.csv").get_data().decode("utf-8-sig"))))
    firsts = sorted(row[0] for row in rows[1:])
    assert firsts == sorted(["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "Plain"])
    assert all(len(row) == 3 for row in rows)


def test_sealed_organisation_shows_counts_only(make_app):
    from petition_app import sealing
    from petition_app.signing.service import SignatureInput, sign

    app = make_app()
    with app.app_context():
        public, _private = sealing.generate_keypair()
        make_org("host", public_key=public)
        starter, dashboard = approved_starter(app)
        sign(starter.campaign, SignatureInput("Anna", "Ivanova", "anna@example.org", "DE", consent_share=True))
        client = app.test_client()
        html = client.get(dashboard).get_data(as_text=True)
        assert "cannot be produced here" in html and "delivery.csv" not in html
        assert re.search(r"Germany</td><td class=\"num\">1<", html)
        for path in (dashboard + "/delivery.csv", dashboard + "/delivery"):
            response = client.get(path)
            assert response.status_code == 409 and "Ivanova" not in response.get_data(as_text=True)


# -- call to action --------------------------------------------------------------------------------------------------


def test_call_to_action_is_on_the_index_and_campaign_pages(app, make_campaign):
    campaign = make_campaign(slug="cta")
    client = app.test_client()
    for path in ("/", "/campaigns/cta", "/campaigns/cta/actions", "/campaigns/cta/thanks"):
        html = client.get(path).get_data(as_text=True)
        assert '<a href="/start">Is there an issue impacting LGBT+ people in your community? Start your campaign.</a>' \
            in html, path
    assert campaign.slug == "cta"
    app.config["START_CALL_TO_ACTION"] = "Got a cause? Start here."
    from petition_app.pagecache import drop_pages

    drop_pages()  # settings change with a restart, which starts with no cached page
    assert '<a href="/start">Got a cause? Start here.</a>' in client.get("/").get_data(as_text=True)


def test_purge_deletes_proposals_never_confirmed_within_the_retention_period(app, host):
    from datetime import datetime, timedelta, timezone

    for address in ("old@example.org", "new@example.org", "confirmed@example.org"):
        assert propose(app.test_client(), email=address, title=address).status_code == 303
    old = datetime.now(timezone.utc) - timedelta(days=31)
    db.session.execute(sa.update(Starter).where(Starter.email != "new@example.org").values(created_at=old))
    confirmed = db.session.execute(sa.select(Starter).where(Starter.email == "confirmed@example.org")).scalar_one()
    service.confirm(confirmed)

    dry = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert "would delete 1 campaign proposals" in dry.output and counts()[1] == 3
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "deleted 1 campaign proposals" in result.output
    db.session.expire_all()
    assert sorted(db.session.execute(sa.select(Starter.email)).scalars()) == ["confirmed@example.org",
                                                                              "new@example.org"]
    assert counts()[:2] == (2, 2)
    from petition_app import mailer

    outbox = [(mailer.recipient(m), m.status) for m in db.session.execute(sa.select(OutboxMessage)).scalars()]
    assert ("old@example.org", "queued") not in [(a, str(s)) for a, s in outbox]
    assert all(address != "old@example.org" for address, _status in outbox)


def test_purge_forgets_addresses_of_rejected_starters_after_the_retention_period(app):
    from datetime import datetime, timedelta, timezone

    from petition_app.models import Campaign, CampaignStatus, Organisation, Starter, StarterState
    from petition_app.starter.service import forget_finished_starters

    org = Organisation(slug="host", name="Host")
    old = datetime.now(timezone.utc) - timedelta(days=40)
    for i, (state, decided) in enumerate([(StarterState.REJECTED, old), (StarterState.REJECTED, None),
                                          (StarterState.PENDING, None)]):
        campaign = Campaign(slug=f"p{i}", title="T", goal=10, status=CampaignStatus.DRAFT, organisation=org)
        db.session.add(campaign)
        db.session.flush()
        db.session.add(Starter(campaign_id=campaign.id, public_name="G", email=f"s{i}@example.org",
                               email_hash="h" * 64, state=state,
                               decided_at=decided or datetime.now(timezone.utc)))
    db.session.commit()
    assert forget_finished_starters(dry_run=True) == 1
    assert forget_finished_starters() == 1
    emails = sorted(s.email for s in db.session.execute(sa.select(Starter)).scalars())
    assert emails == ["", "s1@example.org", "s2@example.org"]

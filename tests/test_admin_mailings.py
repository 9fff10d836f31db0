"""Admin: writing, previewing, testing, sending, pausing and cancelling update mailings; who may; sealed campaigns."""

from __future__ import annotations

import csv
import html
import io

import pytest
import sqlalchemy as sa

from petition_app import mailer, mailings
from petition_app.extensions import db
from petition_app.models import AuditEntry, Mailing, MailingStatus, MailingVersion, Role
from petition_app.sealing import generate_keypair, seal
from tests.conftest import csrf_token, log_in, make_org, make_user
from tests.mailbox import html_part, text_part
from tests.test_mailings import _bulk, _campaign


@pytest.fixture
def site(make_app, smtp):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=10, MAIL_RATE_PER_MINUTE=1000)
    with app.app_context():
        org = make_org("mail-org", "Mail Org")
        campaign = _campaign(org=org)
        make_user("editor@example.org", (org, Role.EDITOR))
        make_user("viewer@example.org", (org, Role.VIEWER))
        make_user("owner@example.org", (org, Role.OWNER))
        yield app, campaign


def _post(client, path: str, data: dict, page: str | None = None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page or path)})


def _texts(**overrides) -> dict:
    data = {"subject_en": "We delivered it", "body_en": "We **delivered** the petition. <script>x()</script>",
            "subject_ru": "Мы передали", "body_ru": "Мы **передали** петицию."}
    data.update(overrides)
    return data


def test_an_editor_writes_previews_tests_and_sends_a_mailing(site, smtp):
    app, campaign = site
    kinds = _bulk(campaign, 6)
    client = log_in(app, "editor@example.org")
    base = f"/admin/campaigns/{campaign.id}/mailings"
    page = client.get(base).get_data(as_text=True)
    assert "6 people now" in page

    response = _post(client, f"{base}/new", _texts())
    assert response.status_code == 303
    mailing = db.session.execute(sa.select(Mailing)).scalar_one()
    assert response.headers["Location"].endswith(f"{base}/{mailing.id}")
    assert {v.language: v.subject for v in mailing.versions} == {"en": "We delivered it", "ru": "Мы передали"}

    preview = client.get(f"{base}/{mailing.id}").get_data(as_text=True)
    frame = html.unescape(preview.split('<iframe class="mail-preview"', 1)[1].split('src="', 1)[1].split('"', 1)[0])
    assert frame == f"{base}/{mailing.id}/preview.html?language=en"
    framed = client.get(frame)
    assert "<strong>delivered</strong>" in framed.get_data(as_text=True)
    assert "<script>" not in framed.get_data(as_text=True)
    assert "sandbox" in framed.headers["Content-Security-Policy"]
    assert "script-src" not in framed.headers["Content-Security-Policy"]  # default-src 'none': no script runs
    assert "We **delivered** the petition." in preview  # the text version, as sent
    assert "Send to 6 signers" in preview
    russian = client.get(f"{base}/{mailing.id}?language=ru").get_data(as_text=True)
    assert "Мы передали" in russian

    assert _post(client, f"{base}/{mailing.id}/test", {"language": "ru"}, f"{base}/{mailing.id}").status_code == 303
    assert mailer.send_due() == 1
    [test] = smtp.box.messages
    assert test["To"] == "editor@example.org" and test["Subject"] == "Мы передали"
    assert "<strong>передали</strong>" in html_part(test)
    assert mailings.progress(mailing)["sent"] == 0  # a test is not part of the mailing
    smtp.box.envelopes.clear()

    assert _post(client, f"{base}/{mailing.id}/status", {"to": "sending"}, f"{base}/{mailing.id}").status_code == 303
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == MailingStatus.SENDING
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert {str(m["To"]) for m in smtp.box.messages} == kinds["eligible"]
    assert all("http://localhost/s/unsubscribe/" in text_part(m) for m in smtp.box.messages)
    progress = client.get(f"{base}/{mailing.id}").get_data(as_text=True)
    assert "<strong>6</strong> sent" in progress
    actions = [a for (a,) in db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id))]
    assert actions[-3:] == ["mailing drafted", "mailing test sent", "mailing draft → sending"]


def test_pause_resume_and_cancel_from_the_admin(site):
    app, campaign = site
    _bulk(campaign, 3)
    mailing = mailings.create(campaign, {"en": ("S", "B")})
    db.session.commit()
    client = log_in(app, "editor@example.org")
    path = f"/admin/campaigns/{campaign.id}/mailings/{mailing.id}"
    for to, expected in (("sending", "sending"), ("paused", "paused"), ("sending", "sending"),
                         ("cancelled", "cancelled")):
        assert _post(client, f"{path}/status", {"to": to}, path).status_code == 303
        db.session.expire_all()
        assert db.session.get(Mailing, mailing.id).status.value == expected
    response = _post(client, f"{path}/status", {"to": "sending"}, path)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == MailingStatus.CANCELLED
    assert "cannot be changed that way" in client.get(path).get_data(as_text=True)
    assert _post(client, f"{path}/status", {"to": "nonsense"}, path).status_code == 400


def test_a_mailing_without_the_campaigns_language_is_refused_and_nothing_is_written(site):
    app, campaign = site
    client = log_in(app, "editor@example.org")
    path = f"/admin/campaigns/{campaign.id}/mailings/new"
    response = _post(client, path, _texts(subject_en="", body_en=""))
    assert response.status_code == 422
    assert "version in the campaign" in response.get_data(as_text=True)
    response = _post(client, path, _texts(body_ru=""))
    assert response.status_code == 422
    assert "both a subject and a text" in response.get_data(as_text=True)
    response = _post(client, path, _texts(subject_en="a\x00b"))
    assert response.status_code == 422
    assert db.session.execute(sa.select(sa.func.count()).select_from(Mailing)).scalar_one() == 0
    assert db.session.execute(sa.select(sa.func.count()).select_from(MailingVersion)).scalar_one() == 0


def test_a_draft_can_be_edited_and_a_sent_one_cannot(site):
    app, campaign = site
    mailing = mailings.create(campaign, {"en": ("Old", "Old text")})
    db.session.commit()
    client = log_in(app, "editor@example.org")
    path = f"/admin/campaigns/{campaign.id}/mailings/{mailing.id}"
    assert "Old text" in client.get(f"{path}/edit").get_data(as_text=True)
    assert _post(client, f"{path}/edit", _texts(subject_ru="", body_ru="")).status_code == 303
    db.session.expire_all()
    assert [(v.language, v.subject) for v in db.session.get(Mailing, mailing.id).versions] == [
        ("en", "We delivered it")]
    _post(client, f"{path}/status", {"to": "sending"}, path)
    response = _post(client, f"{path}/edit", _texts(subject_en="Changed"), path)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).versions[0].subject == "We delivered it"


def test_viewers_and_other_organisations_see_nothing(site):
    app, campaign = site
    mailing = mailings.create(campaign, {"en": ("S", "B")})
    db.session.commit()
    other = make_org("other-org")
    make_user("stranger@example.org", (other, Role.OWNER))
    base = f"/admin/campaigns/{campaign.id}/mailings"
    for address in ("viewer@example.org", "stranger@example.org"):
        client = log_in(app, address)
        for path in (base, f"{base}/new", f"{base}/{mailing.id}", f"{base}/{mailing.id}/edit",
                     f"{base}/opted-in.csv"):
            assert client.get(path).status_code == 404, (address, path)
        token = csrf_token(client, "/admin/")
        assert client.post(f"{base}/{mailing.id}/status", data={"to": "sending", "csrf_token": token}
                           ).status_code == 404
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == MailingStatus.DRAFT


def test_a_mailing_of_another_campaign_is_not_found(site):
    app, campaign = site
    other = _campaign("other", org=campaign.organisation)
    mailing = mailings.create(other, {"en": ("S", "B")})
    db.session.commit()
    client = log_in(app, "editor@example.org")
    assert client.get(f"/admin/campaigns/{campaign.id}/mailings/{mailing.id}").status_code == 404


def test_a_sealed_campaign_offers_the_opted_in_list_for_mailing_offline(site):
    app, campaign = site
    public, _private = generate_keypair()
    campaign.organisation.public_key = public
    db.session.commit()
    _bulk(campaign, 4)
    from petition_app.models import Signature

    rows = db.session.execute(sa.select(Signature).where(Signature.campaign_id == campaign.id)).scalars().all()
    for signature in rows:  # as signing.service stores them for a sealing organisation
        signature.sealed = seal(public, {"first_name": signature.first_name, "last_name": signature.last_name,
                                         "email": signature.email, "phone": None})
        signature.first_name = signature.last_name = signature.email = ""
    db.session.commit()

    editor = log_in(app, "editor@example.org")
    base = f"/admin/campaigns/{campaign.id}/mailings"
    page = editor.get(base).get_data(as_text=True)
    assert "cannot mail these signers" in page and "4 confirmed signers agreed" in page
    assert "Write a mailing" not in page
    assert editor.get(f"{base}/new").status_code == 409
    assert editor.get(f"{base}/opted-in.csv").status_code == 404  # personal data exports are for owners

    owner = log_in(app, "owner@example.org")
    response = owner.get(f"{base}/opted-in.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(table) == 4
    assert all(row["sealed"] and row["email"] == "" and row["consent_email"] == "yes" for row in table)
    assert db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())).first()[0] == (
        "opted-in export downloaded")

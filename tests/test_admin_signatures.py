"""Admin campaign overview, signatures, erasure and exports (web and command line)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from petition_app import stats
from petition_app.extensions import db
from petition_app.models import AuditEntry, Campaign, Membership, Organisation, Role, Signature, User
from petition_app.passwords import hash_password
from petition_app.privacy import email_hash
from petition_app.signing.service import Outcome, SignatureInput, confirm, sign
from tests.conftest import csrf_token

PASSWORD = "a long enough password"
BOM = "\ufeff"


# -- helpers -----------------------------------------------------------------------------------------------------

def organisation(slug: str) -> Organisation:
    found = db.session.execute(sa.select(Organisation).where(Organisation.slug == slug)).scalar()
    if found is None:
        found = Organisation(slug=slug, name=slug.title())
        db.session.add(found)
        db.session.commit()
    return found


def log_in(client, org: Organisation, role: Role) -> User:
    """Create a member of the organisation with the role and log the client in as that member."""
    user = User(email=f"{role.value}-{uuid.uuid4().hex[:6]}@example.org", password_hash=hash_password(PASSWORD))
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=role))
    db.session.commit()
    response = client.post("/admin/login", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/admin/login")})
    assert response.status_code == 303
    return user


def add_signature(campaign: Campaign, email: str, first: str = "Anna", last: str = "Ivanova", country: str = "DE",
                  **fields) -> Signature:
    assert sign(campaign, SignatureInput(first, last, email, country, **fields)) is Outcome.SIGNED
    return db.session.execute(sa.select(Signature).where(Signature.email_hash == email_hash(email))).scalar_one()


def move_to(signature: Signature, moment: datetime) -> None:
    db.session.execute(sa.update(Signature).where(Signature.id == signature.id).values(created_at=moment))
    db.session.commit()


def csv_rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:])))


def audit_actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def stat(html: str, label: str) -> str:
    match = re.search(r"<strong>([^<]*)</strong>\s*" + re.escape(label), html)
    assert match, label
    return match.group(1)


def bulk_signatures(campaign: Campaign, n: int, **fields) -> None:
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    db.session.execute(sa.insert(Signature), [
        {"campaign_id": campaign.id, "first_name": f"First{i}", "last_name": f"Last{i}",
         "email": f"p{i}@example.org", "email_hash": email_hash(f"p{i}@example.org"), "country": "DE",
         "created_at": now, **fields}
        for i in range(n)
    ])
    db.session.commit()


@pytest.fixture
def org_a(app):
    return organisation("org-a")


@pytest.fixture
def campaign(make_campaign, org_a):
    return make_campaign(slug="free-them", org=org_a, title="Free them", targets="The Minister\nThe Parliament",
                         count_confirmed_only=False)


def urls(campaign_id: int, signature_id: int = 1) -> dict[str, str]:
    base = f"/admin/campaigns/{campaign_id}"
    return {
        "overview": base,
        "signatures": f"{base}/signatures",
        "erase": f"{base}/signatures/{signature_id}/delete",
        "delivery.csv": f"{base}/export/delivery.csv",
        "delivery.html": f"{base}/export/delivery.html",
        "full.csv": f"{base}/export/full.csv",
    }


# -- overview and statistics ---------------------------------------------------------------------------------------

def test_overview_shows_counts_countries_chart_and_mail(client, campaign, org_a):
    campaign.offline_count = 10
    db.session.commit()
    anna = add_signature(campaign, "anna@example.org")
    add_signature(campaign, "boris@example.org", "Boris", "Petrov", "DE")
    early = add_signature(campaign, "chloe@example.org", "Chloé", "Martin", "FR")
    confirm(anna)
    today = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    move_to(early, today - timedelta(days=3))
    log_in(client, org_a, Role.VIEWER)

    response = client.get(f"/admin/campaigns/{campaign.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert stat(html, "shown on the page") == "13"
    assert stat(html, "signed online") == "3"
    assert stat(html, "confirmed") == "1"
    assert stat(html, "not confirmed yet") == "2"
    assert stat(html, "signed today") == "2"
    assert stat(html, "collected offline") == "10"
    assert stat(html, "queued") == "3"  # the three confirmation mails
    assert "http://localhost/campaigns/free-them" in html

    rows = re.findall(r"<tr><td>([A-Z]{2})</td><td>([^<]+)</td><td class=\"num\">(\d+)</td><td class=\"num\">([^<]+)</td>",
                      html)
    assert rows == [("DE", "Germany", "2", "66.7%"), ("FR", "France", "1", "33.3%")]

    # Since the first signature, three days ago: four bars, 1, 0, 0, 2.
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'viewBox="0 0 320 170"' in svg and 'width="100%"' in svg and "style=" not in svg
    titles = re.findall(r"<title>([^<]+)</title>", svg)
    assert len(titles) == 4 == svg.count('<g class="bar">')
    assert [t.split(": ")[1] for t in titles] == ["1 signature", "0 signatures", "0 signatures", "2 signatures"]
    assert "3 in all" in html
    days = re.findall(r"<tr><td>[^<]+</td><td class=\"num\">(\d+)</td></tr>", html)
    assert days == ["1", "0", "0", "2"]
    assert "<script" not in html.split('<div class="admin">')[1]


def test_chart_covers_the_last_thirty_days_at_most(app, campaign):
    old = add_signature(campaign, "old@example.org")
    add_signature(campaign, "new@example.org")
    move_to(old, datetime.now(timezone.utc) - timedelta(days=40))
    with app.test_request_context():
        overview = stats.overview(campaign)
    assert overview.totals.online == 2 and overview.totals.today == 1
    assert len(overview.days) == 30 == len(overview.chart.bars)
    assert overview.days[-1] == (datetime.now(timezone.utc).date(), 1)
    assert sum(n for _, n in overview.days) == 1
    assert [t.label for t in overview.chart.ticks] == ["0", "1", "2"]


def test_days_are_utc_days_whatever_the_database_time_zone(app, campaign):
    today = datetime.now(timezone.utc).date()
    yesterday = today - timedelta(days=1)
    late = add_signature(campaign, "late@example.org")
    move_to(late, datetime.combine(yesterday, time(23), tzinfo=timezone.utc))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))  # UTC+14: already "today" there
    found = stats.totals(campaign.id)
    assert (found.first_day, found.today) == (yesterday, 0)
    assert stats.per_day(campaign.id, found.first_day) == [(yesterday, 1), (today, 0)]


def test_overview_links_to_the_campaign_editor_for_editors_only(client, campaign, org_a):
    log_in(client, org_a, Role.VIEWER)
    assert f"/admin/campaigns/{campaign.id}/edit" not in client.get(f"/admin/campaigns/{campaign.id}").get_data(
        as_text=True)
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    log_in(client, org_a, Role.EDITOR)
    html = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"/admin/campaigns/{campaign.id}/edit" in html
    assert f"/admin/campaigns/{campaign.id}/status?to=closed" in html


def test_overview_works_without_the_campaign_editor_views(app, client, campaign, org_a):
    for endpoint in ("admin.campaign_edit", "admin.campaign_status", "admin.campaign_updates"):
        app.view_functions.pop(endpoint, None)
    log_in(client, org_a, Role.OWNER)
    response = client.get(f"/admin/campaigns/{campaign.id}")
    assert response.status_code == 200
    assert f"/admin/campaigns/{campaign.id}/edit" not in response.get_data(as_text=True)


def test_overview_without_signatures_says_so(client, campaign, org_a):
    log_in(client, org_a, Role.VIEWER)
    html = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert "No signatures yet." in html and "<svg" not in html


def test_owner_sees_signer_data_links_and_viewer_does_not(client, campaign, org_a):
    log_in(client, org_a, Role.VIEWER)
    html = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert "/export/" not in html and f"/admin/campaigns/{campaign.id}/signatures" not in html
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    log_in(client, org_a, Role.OWNER)
    html = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    for url in ("export/delivery.csv", "export/delivery.html", "export/full.csv", "signatures"):
        assert f"/admin/campaigns/{campaign.id}/{url}" in html


# -- who may see what ----------------------------------------------------------------------------------------------

def test_viewer_sees_the_overview_but_no_signer_data(client, campaign, org_a):
    signature = add_signature(campaign, "anna@example.org")
    log_in(client, org_a, Role.VIEWER)
    pages = urls(campaign.id, signature.id)
    assert client.get(pages.pop("overview")).status_code == 200
    for url in pages.values():
        assert client.get(url).status_code == 404, url


def test_editor_gets_404_on_signatures_and_exports(client, campaign, org_a):
    signature = add_signature(campaign, "anna@example.org")
    log_in(client, org_a, Role.EDITOR)
    pages = urls(campaign.id, signature.id)
    assert client.get(pages.pop("overview")).status_code == 200
    for url in pages.values():
        assert client.get(url).status_code == 404, url


def test_owner_of_another_organisation_gets_404_everywhere(client, campaign):
    signature = add_signature(campaign, "anna@example.org")
    log_in(client, organisation("org-b"), Role.OWNER)
    for url in urls(campaign.id, signature.id).values():
        assert client.get(url).status_code == 404, url
    erase = urls(campaign.id, signature.id)["erase"]
    response = client.post(erase, data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 404
    assert db.session.get(Signature, signature.id) is not None


def test_logged_out_visitor_is_sent_to_login(client, campaign):
    response = client.get(f"/admin/campaigns/{campaign.id}/export/full.csv")
    assert response.status_code == 303 and "/admin/login" in response.headers["Location"]


# -- signatures: list, search, erasure -------------------------------------------------------------------------------

def search(client, campaign, q: str) -> str:
    url = f"/admin/campaigns/{campaign.id}/signatures"
    response = client.post(url, data={"q": q, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_signature_list_shows_the_day_only(client, campaign, org_a):
    signature = add_signature(campaign, "anna@example.org", consent_email=True)
    move_to(signature, datetime(2024, 3, 5, 14, tzinfo=timezone.utc))
    log_in(client, org_a, Role.OWNER)
    html = client.get(f"/admin/campaigns/{campaign.id}/signatures").get_data(as_text=True)
    assert "Anna" in html and "Ivanova" in html and "5 Mar 2024" in html
    assert "14:00" not in html and "anna@example.org" not in html
    assert "1 signature." in html


def test_search_by_email_in_any_letter_case(client, campaign, org_a):
    add_signature(campaign, "anna@example.org")
    add_signature(campaign, "boris@example.org", "Boris", "Petrov")
    log_in(client, org_a, Role.OWNER)
    html = search(client, campaign, "  ANNA@Example.ORG ")
    assert "Ivanova" in html and "Petrov" not in html
    html = search(client, campaign, "nobody@example.org")
    assert "Ivanova" not in html and "0 signatures match." in html


def test_search_by_part_of_a_name_in_any_script_and_case(client, campaign, org_a):
    add_signature(campaign, "anna@example.org")
    add_signature(campaign, "boris@example.org", "Boris", "Petrov")
    add_signature(campaign, "olga@example.org", "Ольга", "Иванова")
    log_in(client, org_a, Role.OWNER)
    html = search(client, campaign, "IVAN")
    assert "Ivanova" in html and "Petrov" not in html and "Иванова" not in html
    html = search(client, campaign, "иВАН")
    assert "Иванова" in html and "Ivanova" not in html
    html = search(client, campaign, "bor pet")
    assert "Petrov" in html and "Ivanova" not in html
    assert "0 signatures match." in search(client, campaign, "%")
    assert "Ivanova" in search(client, campaign, "Iva\x00n\u202e")  # control characters are ignored


def test_signature_list_pages_fifty_at_a_time(client, campaign, org_a):
    bulk_signatures(campaign, 120)
    log_in(client, org_a, Role.OWNER)
    url = f"/admin/campaigns/{campaign.id}/signatures"
    first = client.get(url).get_data(as_text=True)
    assert first.count("Erase…") == 50 and "First119" in first and "Page 1 of 3" in first
    last = client.get(url + "?page=3").get_data(as_text=True)
    assert last.count("Erase…") == 20 and "First0<" in last
    assert client.get(url + "?page=99999999999999999999999").status_code == 200


def test_erasure_asks_first_then_deletes_and_lowers_the_count(client, campaign, org_a):
    anna_id = add_signature(campaign, "anna@example.org").id
    add_signature(campaign, "boris@example.org", "Boris", "Petrov")
    log_in(client, org_a, Role.OWNER)
    url = f"/admin/campaigns/{campaign.id}/signatures/{anna_id}/delete"
    page = client.get(url)
    assert page.status_code == 200 and "Erase this signature?" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Signature, anna_id) is not None

    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/campaigns/{campaign.id}/signatures")
    db.session.expire_all()
    assert db.session.get(Signature, anna_id) is None
    assert db.session.get(Campaign, campaign.id).signature_count == 1
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "signature erased")).scalar_one()
    assert entry.target.endswith(f" {anna_id}")
    assert "Anna" not in entry.target + entry.detail and "anna@" not in entry.target + entry.detail
    assert "The signature was erased." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_erasing_a_signature_of_another_campaign_is_404(client, campaign, make_campaign, org_a):
    other = make_campaign(slug="other", org=org_a)
    stranger = add_signature(other, "anna@example.org")
    log_in(client, org_a, Role.OWNER)
    url = f"/admin/campaigns/{campaign.id}/signatures/{stranger.id}/delete"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": csrf_token(client, "/admin/")}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Signature, stranger.id) is not None


# -- exports -------------------------------------------------------------------------------------------------------

def test_delivery_csv_has_three_columns_and_respects_starter_consent_and_confirmation(
        client, make_campaign, org_a):
    campaign = make_campaign(slug="started", org=org_a, started_by="A local group", count_confirmed_only=True)
    both = add_signature(campaign, "a@example.org", "Alma", "Shared", "DE", consent_share=True, phone="+4915112345678")
    unconfirmed = add_signature(campaign, "b@example.org", "Bea", "Unconfirmed", "FR", consent_share=True)
    private = add_signature(campaign, "c@example.org", "Cem", "Private", "TR")
    confirm(both)
    confirm(private)
    assert unconfirmed.confirmed_at is None
    log_in(client, org_a, Role.OWNER)

    response = client.get(f"/admin/campaigns/{campaign.id}/export/delivery.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="started-delivery.csv"'
    assert csv_rows(response) == [["first_name", "last_name", "country"], ["Alma", "Shared", "DE"]]
    assert audit_actions()[-1] == "delivery export downloaded"


def test_delivery_csv_of_an_ordinary_campaign_lists_everyone(client, campaign, org_a):
    add_signature(campaign, "a@example.org", "Alma", "One")
    add_signature(campaign, "b@example.org", "Bea", "Two", "FR")
    log_in(client, org_a, Role.OWNER)
    rows = csv_rows(client.get(f"/admin/campaigns/{campaign.id}/export/delivery.csv"))
    assert rows[1:] == [["Alma", "One", "DE"], ["Bea", "Two", "FR"]]


def test_csv_cells_that_look_like_formulas_are_neutralised(client, campaign, org_a):
    add_signature(campaign, "a@example.org", '=HYPERLINK("http://evil")', "+1", "DE")
    add_signature(campaign, "b@example.org", "-2", "@SUM(A1)", "FR")
    add_signature(campaign, "c@example.org", "\tTab", "\rReturn", "PL")
    add_signature(campaign, "d@example.org", "Plain", "Name=ok", "AT")
    log_in(client, org_a, Role.OWNER)
    rows = csv_rows(client.get(f"/admin/campaigns/{campaign.id}/export/delivery.csv"))
    assert rows[1:] == [
        ["'=HYPERLINK(\"http://evil\")", "'+1", "DE"],
        ["'-2", "'@SUM(A1)", "FR"],
        ["'\tTab", "'\rReturn", "PL"],
        ["Plain", "Name=ok", "AT"],
    ]
    full = csv_rows(client.get(f"/admin/campaigns/{campaign.id}/export/full.csv"))
    assert full[1][1:3] == ["'=HYPERLINK(\"http://evil\")", "'+1"]


def test_full_export_has_every_field_but_the_hashes(client, campaign, org_a):
    anna = add_signature(campaign, "Anna@Example.org", consent_email=True, phone="+4915112345678", consent_sms=True)
    add_signature(campaign, "boris@example.org", "Boris", "Petrov", "FR", language="ru")
    confirm(anna)
    log_in(client, org_a, Role.OWNER)
    response = client.get(f"/admin/campaigns/{campaign.id}/export/full.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="free-them-full.csv"'
    header, first, second = csv_rows(response)
    assert header == ["id", "first_name", "last_name", "email", "country", "phone", "language", "consent_email",
                      "consent_sms", "consent_share", "consents_given_at", "confirmed", "confirmed_at", "sealed"]
    record = dict(zip(header, first, strict=True))
    assert record["email"] == "Anna@Example.org" and record["id"] == str(anna.id)
    assert record["phone"] == "'+4915112345678"  # a leading + is a formula to a spreadsheet
    assert (record["consent_email"], record["consent_sms"], record["consent_share"]) == ("yes", "yes", "no")
    assert record["confirmed"] == "yes" and record["confirmed_at"].endswith(":00:00Z")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z", record["consents_given_at"])
    other = dict(zip(header, second, strict=True))
    assert (other["confirmed"], other["confirmed_at"], other["language"]) == ("no", "", "ru")
    assert email_hash("anna@example.org") not in response.get_data(as_text=True)
    assert audit_actions()[-1] == "full export downloaded"


def test_print_list_groups_names_by_country(client, campaign, org_a):
    add_signature(campaign, "a@example.org", "Alma", "Zed", "DE")
    add_signature(campaign, "b@example.org", "Bea", "Alt", "DE")
    add_signature(campaign, "c@example.org", "Cem", "Kaya", "AT")
    log_in(client, org_a, Role.OWNER)
    response = client.get(f"/admin/campaigns/{campaign.id}/export/delivery.html")
    assert response.status_code == 200 and response.is_streamed
    html = response.get_data(as_text=True)
    assert "<h1>Free them</h1>" in html and "The Minister; The Parliament" in html
    assert "3 signatures" in html
    assert html.index("Austria (1)") < html.index("Cem Kaya") < html.index("Germany (2)")
    assert html.index("Germany (2)") < html.index("Bea Alt") < html.index("Alma Zed")
    assert "@example.org" not in html
    assert audit_actions()[-1] == "delivery list opened"


@pytest.mark.parametrize("kind", ["delivery", "full"])
def test_exports_of_many_rows_are_streamed_in_batches(client, campaign, org_a, kind):
    bulk_signatures(campaign, 5000)
    log_in(client, org_a, Role.OWNER)
    response = client.get(f"/admin/campaigns/{campaign.id}/export/{kind}.csv")
    assert response.status_code == 200 and response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 6  # the header, then one chunk per batch of 1,000 rows
    lines = b"".join(chunks).decode("utf-8").splitlines()
    assert len(lines) == 5001
    assert lines[-1].endswith("First4999,Last4999,DE") if kind == "delivery" else ",First4999,Last4999,p4999@" in lines[-1]


def test_print_list_of_many_rows_is_streamed(client, campaign, org_a):
    bulk_signatures(campaign, 5000)
    log_in(client, org_a, Role.OWNER)
    response = client.get(f"/admin/campaigns/{campaign.id}/export/delivery.html")
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 10
    assert b"".join(chunks).decode().count("<li>") == 5000


# -- command line --------------------------------------------------------------------------------------------------

def test_cli_writes_the_delivery_export_to_a_file_and_audits_it(runner, campaign, tmp_path):
    add_signature(campaign, "a@example.org", "Alma", "=One", "DE")
    add_signature(campaign, "b@example.org", "Bea", "Two", "FR")
    target = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "free-them", "--output", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["first_name", "last_name", "country"], ["Alma", "'=One", "DE"], ["Bea", "Two", "FR"]]
    db.session.expire_all()
    entry = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert (entry.action, entry.actor, entry.target) == ("delivery export written", "command line", "free-them")


def test_cli_full_export_to_standard_output(runner, campaign):
    bulk_signatures(campaign, 2500)
    result = runner.invoke(args=["export", "free-them", "--full"])
    assert result.exit_code == 0, result.output
    text = result.stdout_bytes.decode("utf-8-sig")
    lines = text.splitlines()
    assert len(lines) == 2501 and lines[0].startswith("id,first_name,last_name,email,")
    assert "Exporting" not in result.output  # no progress bar when stderr is not a terminal


def test_cli_rejects_an_unknown_campaign(runner, app):
    result = runner.invoke(args=["export", "no-such-campaign"])
    assert result.exit_code != 0 and "no campaign" in result.output

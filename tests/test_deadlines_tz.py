"""Deadlines in the site's time zone (TIMEZONE): editors enter wall-clock time there, the database keeps UTC,
supporters read "Closes on …" in their language, across a day boundary."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from petition_app.extensions import db
from petition_app.models import Campaign, Role
from tests.conftest import log_in, make_org, make_user
from tests.test_admin_campaigns import fields, post_form


def stored_deadline(slug: str) -> datetime:
    db.session.expire_all()
    value = db.session.execute(sa.select(Campaign.deadline).where(Campaign.slug == slug)).scalar_one()
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@pytest.fixture
def zoned_app(make_app, request):
    app = make_app(TIMEZONE=request.param)
    with app.app_context():
        yield app


def _editor(app):
    org = make_org("org-a", "Org A")
    make_user("editor@example.org", (org, Role.EDITOR))
    return org, log_in(app, "editor@example.org")


@pytest.mark.parametrize(("zoned_app", "entered", "stored"), [
    ("Europe/Moscow", "2026-12-01T01:30", datetime(2026, 11, 30, 22, 30, tzinfo=timezone.utc)),
    ("America/Toronto", "2026-11-30T21:00", datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)),
    ("UTC", "2026-11-30T21:00", datetime(2026, 11, 30, 21, 0, tzinfo=timezone.utc)),
], indirect=["zoned_app"])
def test_editor_enters_the_deadline_in_the_site_zone_and_utc_is_stored(zoned_app, entered, stored):
    org, editor = _editor(zoned_app)
    response = post_form(editor, "/admin/campaigns/new", fields(org, slug="zoned", deadline=entered))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert stored_deadline("zoned") == stored

    # The form gives back the same wall-clock time, and saving it unchanged changes nothing.
    campaign_id = db.session.execute(sa.select(Campaign.id).where(Campaign.slug == "zoned")).scalar_one()
    html = editor.get(f"/admin/campaigns/{campaign_id}/edit").get_data(as_text=True)
    assert f'name="deadline" type="datetime-local" value="{entered}"' in html
    assert zoned_app.config["TIMEZONE"] in html  # the hint names the zone
    again = post_form(editor, f"/admin/campaigns/{campaign_id}/edit", fields(org, slug="zoned", deadline=entered))
    assert again.status_code == 303
    assert "Nothing was changed." in editor.get(again.headers["Location"]).get_data(as_text=True)
    assert stored_deadline("zoned") == stored


@pytest.mark.parametrize("zoned_app", ["Europe/Moscow"], indirect=True)
def test_supporters_read_the_deadline_in_the_site_zone_and_their_language(zoned_app, make_campaign):
    year = datetime.now(timezone.utc).year + 2
    make_campaign(slug="moscow", title="The Moscow campaign", deadline=datetime(year, 11, 30, 22, 30, tzinfo=timezone.utc))
    make_campaign(slug="neighbour", title="A neighbour")
    client = zoned_app.test_client()

    page = client.get("/campaigns/moscow").get_data(as_text=True)
    assert f"Closes on 1 December {year} at 1:30\u202fAM (UTC+3)" in page  # the next day in Moscow
    assert f'<time datetime="{year}-11-30T22:30Z">' in page
    assert "30 November" not in page

    russian = client.get("/campaigns/moscow", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert f"1 декабря {year}" in russian and "01:30 (UTC+3)" in russian

    home = client.get("/").get_data(as_text=True)
    assert f"Closes on 1 December {year}" in home
    actions = client.get("/campaigns/neighbour/actions").get_data(as_text=True)
    assert f"Closes on 1 December {year}</time>" in actions
    thanks = client.get("/campaigns/moscow/thanks").get_data(as_text=True)
    assert f"Closes on 1 December {year} at 1:30\u202fAM (UTC+3)" in thanks


@pytest.mark.parametrize("zoned_app", ["America/Toronto"], indirect=True)
def test_toronto_reads_the_evening_before_and_the_admin_names_the_zone(zoned_app, make_campaign):
    org, editor = _editor(zoned_app)
    year = datetime.now(timezone.utc).year + 2
    campaign = make_campaign(slug="toronto", org=org, deadline=datetime(year, 12, 1, 2, 0, tzinfo=timezone.utc))
    page = zoned_app.test_client().get("/campaigns/toronto").get_data(as_text=True)
    assert f"Closes on 30 November {year} at 9:00\u202fPM (UTC−5)" in page
    admin = editor.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"{year}-11-30 21:00 America/Toronto (UTC−5)" in admin


@pytest.mark.parametrize("zoned_app", ["America/Toronto"], indirect=True)
def test_a_time_skipped_when_the_clocks_go_forward_is_refused(zoned_app):
    org, editor = _editor(zoned_app)
    response = post_form(editor, "/admin/campaigns/new", fields(org, slug="gap", deadline="2027-03-14T02:30"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="deadline-error"' in html and "does not exist in the site" in html
    assert db.session.execute(sa.select(Campaign).where(Campaign.slug == "gap")).scalar_one_or_none() is None


@pytest.mark.parametrize("zoned_app", ["Europe/Moscow"], indirect=True)
def test_the_status_page_names_a_passed_deadline_in_the_site_zone(zoned_app, make_campaign):
    from petition_app.models import CampaignStatus

    org, editor = _editor(zoned_app)
    campaign = make_campaign(slug="passed", org=org, status=CampaignStatus.CLOSED,
                             deadline=datetime(2026, 1, 1, 21, 0, tzinfo=timezone.utc))
    html = editor.get(f"/admin/campaigns/{campaign.id}/status?to=open").get_data(as_text=True)
    assert "The deadline (2026-01-02 00:00 Europe/Moscow (UTC+3)) has passed" in html


def test_a_closed_campaign_shows_no_closing_date(client, make_campaign):
    make_campaign(slug="past", deadline=datetime.now(timezone.utc) - timedelta(hours=1))
    html = client.get("/campaigns/past").get_data(as_text=True)
    assert "This campaign is closed" in html and "Closes on" not in html


def test_without_timezone_the_site_speaks_utc(client, make_campaign):
    year = datetime.now(timezone.utc).year + 2
    make_campaign(slug="utc", deadline=datetime(year, 11, 30, 22, 30, tzinfo=timezone.utc))
    assert f"Closes on 30 November {year} at 10:30\u202fPM (UTC)" in client.get("/campaigns/utc").get_data(as_text=True)


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe/../../etc/passwd", " Europe/Moscow", ""])
def test_flask_check_reports_a_timezone_that_names_no_zone(make_app, name):
    app = make_app(TIMEZONE=name, PUBLIC_URL="https://petitions.example.org", MAIL_SERVER="smtp.example.org",
                   TRUSTED_PROXIES=1)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["check", "--workers", "1"])
        from petition_app.timezones import site_zone
        zone = site_zone()
    if name == "":  # unset: the default, UTC, is sound
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert "ERROR [timezone-unknown]" in result.output
    assert zone == timezone.utc  # the site keeps working, in UTC


def test_flask_check_accepts_a_real_zone(make_app):
    app = make_app(TIMEZONE="Asia/Kolkata", PUBLIC_URL="https://petitions.example.org",
                   MAIL_SERVER="smtp.example.org", TRUSTED_PROXIES=1)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["check", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "timezone" not in result.output


def test_zone_labels_name_the_offset_at_that_moment():
    from zoneinfo import ZoneInfo

    from petition_app.timezones import zone_label

    assert zone_label(datetime(2026, 7, 1, tzinfo=ZoneInfo("America/Toronto"))) == "UTC−4"  # summer time
    assert zone_label(datetime(2026, 12, 1, tzinfo=ZoneInfo("America/Toronto"))) == "UTC−5"
    assert zone_label(datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Kolkata"))) == "UTC+5:30"
    assert zone_label(datetime(2026, 12, 1, tzinfo=timezone.utc)) == "UTC"

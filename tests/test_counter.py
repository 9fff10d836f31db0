"""The live counter fragment: cached, revalidated with ETags, stops polling when closed; exact under concurrency."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from petition_app import counts
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Signature
from petition_app.signing.service import Outcome, SignatureInput, sign
from tests.conftest import at_the_same_moment, sql_statements


def test_counter_fragment_has_cache_headers_and_answers_304_to_its_etag(client, make_campaign):
    make_campaign(slug="etag", offline_count=7440)
    response = client.get("/campaigns/etag/counter")
    assert response.status_code == 200
    assert "<strong>7,440</strong>" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    etag = response.headers["ETag"]
    again = client.get("/campaigns/etag/counter", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_counter_fragment_polls_while_open_and_updates_the_form_counter_out_of_band(client, make_campaign):
    make_campaign(slug="poll")
    html = client.get("/campaigns/poll/counter").get_data(as_text=True)
    assert 'id="counter-top"' in html and 'data-hx-trigger="every 10s"' in html
    assert 'id="counter-form" data-hx-swap-oob="true"' in html


def test_counter_stops_polling_when_campaign_closes(client, make_campaign):
    campaign = make_campaign(slug="closing")
    campaign.status = CampaignStatus.CLOSED
    db.session.commit()
    html = client.get("/campaigns/closing/counter").get_data(as_text=True)
    assert "hx-trigger" not in html


def test_counter_is_served_from_cache_without_querying_the_database(make_app):
    app = make_app(COUNTER_CACHE_SECONDS=60)
    with app.app_context():
        from petition_app.models import Organisation

        org = Organisation(slug="o", name="O")
        db.session.add(Campaign(slug="cached", title="T", organisation=org, status=CampaignStatus.OPEN, goal=10))
        db.session.commit()
    client = app.test_client()
    assert client.get("/campaigns/cached/counter").status_code == 200
    with app.app_context():
        engine = db.engine
    with sql_statements(engine) as statements:
        for _ in range(5):
            assert client.get("/campaigns/cached/counter").status_code == 200
    assert statements == []


def test_signing_leaves_the_cached_count_to_expire_instead_of_dropping_it(make_app):
    """Dropping the counter on every signature would send every poller to the database at a signing peak."""
    app = make_app(COUNTER_CACHE_SECONDS=1)
    with app.app_context():
        from petition_app.models import Organisation

        org = Organisation(slug="o", name="O")
        campaign = Campaign(slug="fresh", title="T", organisation=org, status=CampaignStatus.OPEN, goal=10,
                            count_confirmed_only=False)
        db.session.add(campaign)
        db.session.commit()
        assert counts.cached_snapshot("fresh")["count"] == 0
        sign(campaign, SignatureInput("A", "B", "a@example.org", "FR"))
        assert counts.cached_snapshot("fresh")["count"] == 0
        time.sleep(1.1)
        assert counts.cached_snapshot("fresh")["count"] == 1


def _person(i: int) -> SignatureInput:
    return SignatureInput("Anna", "Test", f"person{i}@example.org", "DE")


def test_concurrent_signing_counts_every_signature_exactly_once(make_app):
    """Many writers at once, with every address sent twice: no signature lost, none counted twice."""
    app = make_app()
    with app.app_context():
        from petition_app.models import Organisation

        org = Organisation(slug="o", name="O")
        campaign = Campaign(slug="rush", title="T", organisation=org, status=CampaignStatus.OPEN, goal=10,
                            count_confirmed_only=False)
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id

    people, threads_n = 60, 12
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_n)

    def writer(offset: int) -> None:
        barrier.wait()
        try:
            with app.app_context():
                for i in range(people):
                    if i % threads_n in (offset, (offset + 1) % threads_n):  # each person from two threads
                        campaign = db.session.get(Campaign, campaign_id)
                        result = sign(campaign, _person(i))
                        with lock:
                            outcomes.append(result)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert outcomes.count(Outcome.SIGNED) == people
    assert outcomes.count(Outcome.DUPLICATE) == people
    with app.app_context():
        stored = db.session.execute(
            sa.select(sa.func.count()).select_from(Signature).where(Signature.campaign_id == campaign_id)
        ).scalar_one()
        campaign = db.session.get(Campaign, campaign_id)
        assert stored == people
        assert campaign.signature_count == people


def test_recount_repairs_a_drifted_count(app, make_campaign, runner):
    campaign = make_campaign(slug="drift", count_confirmed_only=False)
    sign(campaign, _person(1))
    campaign.signature_count = 42
    db.session.commit()
    result = runner.invoke(args=["recount"])
    assert "drift: 42 -> 1" in result.output


def _open_campaign(app, slug: str) -> int:
    with app.app_context():
        from petition_app.models import Organisation

        org = Organisation(slug=f"org-{slug}", name="O")
        campaign = Campaign(slug=slug, title="T", organisation=org, status=CampaignStatus.OPEN, goal=10,
                            count_confirmed_only=False)  # signing moves the count at once
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


def test_concurrent_adds_spread_over_shards_and_sum_exactly(make_app):
    """Threads adding at once, each in its own transaction: nothing lost, and not all on one row."""
    from petition_app.models import CampaignCount

    app = make_app()
    campaign_id = _open_campaign(app, "shards")
    threads_n, adds = 8, 40

    def adder() -> None:
        for i in range(adds):
            counts.add(campaign_id, -1 if i % 10 == 9 else 1)
            db.session.commit()

    at_the_same_moment(app, threads_n, adder)
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).signature_count == threads_n * (adds - 2 * (adds // 10))
        shards = db.session.execute(
            sa.select(CampaignCount.shard).where(CampaignCount.campaign_id == campaign_id)).scalars().all()
        assert len(shards) > 1
        assert all(0 <= s < app.config["COUNTER_SHARDS"] for s in shards)


def test_recount_while_people_sign_ends_exact(make_app):
    """`flask recount` folds the shards while signatures arrive; afterwards the count equals the rows."""
    app = make_app()
    campaign_id = _open_campaign(app, "busy")
    threads_n, people = 4, 15
    errors: list[BaseException] = []

    def signer(offset: int) -> None:
        try:
            with app.app_context():
                for i in range(people):
                    sign(db.session.get(Campaign, campaign_id), _person(offset * 1000 + i))
                db.session.remove()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=signer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    with app.app_context():
        recounts = 0
        while any(t.is_alive() for t in threads):  # no recount once signing is over: the last one overlapped it
            counts.recount(db.session.get(Campaign, campaign_id))
            recounts += 1
        assert recounts >= 1
        for t in threads:
            t.join()
        assert errors == []
        db.session.expire_all()
        rows = db.session.execute(
            sa.select(sa.func.count()).select_from(Signature).where(Signature.campaign_id == campaign_id)
        ).scalar_one()
        assert rows == threads_n * people
        assert db.session.get(Campaign, campaign_id).signature_count == rows

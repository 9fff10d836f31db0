"""Sealed personal data, retention of closed campaigns, discreet mail."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from petition_app import sealing
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Organisation, OutboxMessage, Signature
from petition_app.signing.service import SignatureInput, erase_closed, sign


@pytest.fixture
def sealed_campaign(app):
    public, private = sealing.generate_keypair()
    org = Organisation(slug="sealed-org", name="Sealed Org", public_key=public)
    campaign = Campaign(slug="sealed", title="Sealed", goal=10, status=CampaignStatus.OPEN, organisation=org,
                        count_confirmed_only=False)
    db.session.add(campaign)
    db.session.commit()
    return campaign, private


def test_sealed_campaign_stores_no_name_email_or_phone_in_clear(sealed_campaign):
    campaign, private = sealed_campaign
    sign(campaign, SignatureInput("Zhenya", "Kuznetsova", "zhenya.k@example.org", "RU", phone="+7 900 123 45 67"))
    signature = db.session.execute(sa.select(Signature)).scalar_one()
    assert (signature.first_name, signature.last_name, signature.email, signature.phone) == ("", "", "", None)
    assert signature.email_hash and signature.sealed
    opened = sealing.unseal(private, signature.sealed)
    assert opened == {"first_name": "Zhenya", "last_name": "Kuznetsova", "email": "zhenya.k@example.org",
                      "phone": "+79001234567"}


def test_sealed_signatures_still_deduplicate_by_keyed_hash(sealed_campaign, client):
    from petition_app.signing.service import Outcome

    campaign, _ = sealed_campaign
    assert sign(campaign, SignatureInput("A", "B", "same@example.org", "RU")) is Outcome.SIGNED
    assert sign(campaign, SignatureInput("A", "B", "SAME@example.org", "RU")) is Outcome.DUPLICATE


def test_database_file_holds_no_signer_data_in_plain_text_after_mail_is_sent(make_app, tmp_path):
    db_file = tmp_path / "copy.sqlite3"
    app = make_app(DATABASE_URL=f"sqlite:///{db_file}", MAIL_SERVER="", MAIL_DIR=str(tmp_path / "mail"))
    with app.app_context():
        db.create_all()
        public, _ = sealing.generate_keypair()
        campaign = Campaign(slug="s", title="S", goal=10, status=CampaignStatus.OPEN,
                            organisation=Organisation(slug="o", name="O", public_key=public))
        db.session.add(campaign)
        db.session.commit()
        sign(campaign, SignatureInput("Zhenya", "Kuznetsova", "zhenya.k@example.org", "RU", phone="+79001234567"))
        assert app.test_cli_runner().invoke(args=["worker", "--once"]).exit_code == 0
        db.session.remove()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("VACUUM")
        db.engine.dispose()
    raw = db_file.read_bytes()
    for secret in (b"Zhenya", b"Kuznetsova", b"zhenya.k", b"79001234567", "Kuznetsova".encode("utf-16-le")):
        assert secret not in raw
    wal = tmp_path / "copy.sqlite3-wal"
    assert not wal.exists() or b"Zhenya" not in wal.read_bytes()


def test_keys_generate_stores_public_key_and_prints_private_key_once(app, runner):
    db.session.add(Organisation(slug="k", name="K"))
    db.session.commit()
    result = runner.invoke(args=["keys", "generate", "k"])
    assert result.exit_code == 0
    private = result.stdout.strip().splitlines()[-1]
    org = db.session.execute(sa.select(Organisation).where(Organisation.slug == "k")).scalar_one()
    db.session.refresh(org)
    assert sealing.public_key_of(private) == org.public_key
    again = runner.invoke(args=["keys", "generate", "k"])
    assert again.exit_code != 0 and "--replace" in again.output


def test_wrong_private_key_is_refused(sealed_campaign):
    campaign, _ = sealed_campaign
    sign(campaign, SignatureInput("A", "B", "x@example.org", "RU"))
    _, other = sealing.generate_keypair()
    with pytest.raises(sealing.SealingError):
        sealing.unseal(other, db.session.execute(sa.select(Signature)).scalar_one().sealed)


def test_personal_data_of_long_closed_campaigns_is_erased_counts_and_countries_kept(app, runner, make_campaign):
    old = make_campaign(slug="old", count_confirmed_only=False)
    recent = make_campaign(slug="recent", count_confirmed_only=False)
    for i in range(3):
        sign(old, SignatureInput("Anna", "Old", f"o{i}@example.org", "DE"))
        sign(recent, SignatureInput("Anna", "New", f"n{i}@example.org", "FR"))
    old.status = CampaignStatus.CLOSED
    recent.status = CampaignStatus.DELIVERED
    db.session.commit()
    assert old.closed_at is not None
    old.closed_at = datetime.now(timezone.utc) - timedelta(days=800)
    db.session.commit()

    dry = runner.invoke(args=["purge", "--dry-run"])
    assert "old: would erase the personal data of 3 signatures" in dry.output
    assert erase_closed() == {"old": 3}
    db.session.expire_all()
    rows = db.session.execute(sa.select(Signature).where(Signature.campaign_id == old.id)).scalars().all()
    assert len(rows) == 3 and {r.country for r in rows} == {"DE"}
    assert all((r.first_name, r.last_name, r.email, r.email_hash) == ("", "", "", None) for r in rows)
    assert db.session.get(Campaign, old.id).signature_count == 3
    assert all(r.first_name == "Anna" for r in db.session.execute(
        sa.select(Signature).where(Signature.campaign_id == recent.id)).scalars())
    assert erase_closed() == {}
    assert all(m.payload is None for m in db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.campaign_id == old.id)).scalars())


def test_discreet_campaign_mail_has_a_neutral_subject_and_sender(app, make_campaign):
    campaign = make_campaign(slug="discreet", title="Stop the LGBT+ ban", discreet_mail=True)
    sign(campaign, SignatureInput("A", "B", "d@example.org", "DE"))
    import email
    import email.policy
    from pathlib import Path

    from petition_app import mailer

    assert mailer.send_due() == 1  # no MAIL_SERVER: the worker writes the mail it renders to a file
    [path] = Path(app.config["MAIL_DIR"]).glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "LGBT" not in message["Subject"] and "LGBT" not in message["From"]
    assert message["Subject"] == "Please confirm your email address"
    assert message["From"].startswith("Notifications <")


def _owner_client(app, campaign):
    from petition_app.models import Membership, Role, User
    from petition_app.passwords import hash_password
    from tests.conftest import csrf_token

    user = User(email="owner@example.org", password_hash=hash_password("a long enough password"))
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, organisation_id=campaign.organisation_id, role=Role.OWNER))
    db.session.commit()
    client = app.test_client()
    client.post("/admin/login", data={"email": "owner@example.org", "password": "a long enough password",
                                      "csrf_token": csrf_token(client, "/admin/login")})
    return client


def test_admin_pages_of_a_sealed_campaign_show_no_names_and_explain_offline_export(app, sealed_campaign, tmp_path):
    campaign, private = sealed_campaign
    sign(campaign, SignatureInput("Zhenya", "Kuznetsova", "zhenya.k@example.org", "RU"))
    client = _owner_client(app, campaign)
    listing = client.get(f"/admin/campaigns/{campaign.id}/signatures").get_data(as_text=True)
    assert "Zhenya" not in listing and "sealed" in listing
    overview = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    for secret in ("Zhenya", "Kuznetsova", "zhenya.k"):
        assert secret not in overview
    assert "Russia" in overview  # the country table is there, so the page is the full overview
    notice = client.get(f"/admin/campaigns/{campaign.id}/export/delivery.csv")
    assert notice.status_code == 409 and "--private-key" in notice.get_data(as_text=True)
    full = client.get(f"/admin/campaigns/{campaign.id}/export/full.csv").get_data(as_text=True)
    assert "Zhenya" not in full and "zhenya" not in full

    export_file = tmp_path / "full.csv"
    export_file.write_text(full, encoding="utf-8")
    key_file = tmp_path / "key.txt"
    key_file.write_text(private)
    runner = app.test_cli_runner()
    opened = runner.invoke(args=["unseal", str(export_file), "--private-key", str(key_file)])
    assert opened.exit_code == 0, opened.output
    assert "Zhenya,Kuznetsova,zhenya.k@example.org,RU" in opened.output
    direct = runner.invoke(args=["export", "sealed", "--delivery", "--private-key", str(key_file)])
    assert "Zhenya,Kuznetsova,RU" in direct.output
    without = runner.invoke(args=["export", "sealed", "--full"])
    assert "Zhenya" not in without.output
    _, wrong = sealing.generate_keypair()
    key_file.write_text(wrong)
    refused = runner.invoke(args=["export", "sealed", "--private-key", str(key_file)])
    assert refused.exit_code != 0 and "not the private key" in refused.output

"""Migrations match the models; the demo loader is faithful and idempotent."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from petition_app.extensions import db
from petition_app.models import Campaign, Organisation, RelatedCampaign


def test_migrations_build_exactly_the_models_schema(app_config, tmp_path):
    from flask_migrate import upgrade

    url = "sqlite:///" + str(tmp_path / "migrated.sqlite3")
    import os

    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        import uuid

        schema = "mig_" + uuid.uuid4().hex[:10]
        base = os.environ["DATABASE_URL"]
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    from petition_app import create_app

    app = create_app({**app_config, "DATABASE_URL": url})
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
            assert diff == []
            db.session.remove()
            db.engine.dispose()
    finally:
        if url.startswith("postgresql"):
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_demo_load_is_idempotent_and_faithful(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert "6 organisations and 6 campaigns added" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "0 organisations and 0 campaigns added" in second.output
    campaigns = {c.slug: c for c in db.session.execute(sa.select(Campaign)).scalars()}
    assert len(campaigns) == 6
    sphere = campaigns["russia-oppose-lgbt-criminalization"]
    assert sphere.goal == 60000 and sphere.organisation.name == "Sphere Foundation"
    assert {p.slug for p in sphere.partners} == {"moscow-community-center", "coming-out"}
    assert sphere.updates[0].published_on.isoformat() == "2023-11-30"
    starter = campaigns["no-more-closed-doors-russian-transgender-people"]
    assert starter.offline_count == 7440 and starter.started_by == "Coming Out LGBT group"
    related = db.session.execute(
        sa.select(RelatedCampaign).where(RelatedCampaign.campaign_id == starter.id).order_by(RelatedCampaign.position)
    ).scalars()
    assert [r.related.title for r in related] == [
        "Iran: Save Sareh and Elham's lives", "FIFA: Tell Qatar Love Is Not A Crime",
        "Abolish The Religious Discrimination Bill"]
    amnesty = campaigns["russia-stop-lgbtqqia-criminalization"]
    assert "Natalia Zviagina" in amnesty.quote_attribution
    assert "Recent arrests target book publishers" in amnesty.body
    for slug in ("iran-save-sareh-and-elham", "fifa-tell-qatar-love-is-not-a-crime"):
        assert "Demo content" in campaigns[slug].body
    assert db.session.execute(sa.select(sa.func.count()).select_from(Organisation)).scalar_one() == 6

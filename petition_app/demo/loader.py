"""`flask demo load`: the seed campaigns, loaded once; running it again changes nothing."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from petition_app import organisations as organisation_service
from petition_app.campaigns import service as campaign_service
from petition_app.campaigns.service import CampaignData
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, CampaignUpdate, Organisation

demo_cli = AppGroup("demo", help="Demo content.")

# From draft to each seed status, one step of the transition table at a time.
_PATH_TO = {
    CampaignStatus.DRAFT: (),
    CampaignStatus.OPEN: (CampaignStatus.OPEN,),
    CampaignStatus.CLOSED: (CampaignStatus.OPEN, CampaignStatus.CLOSED),
    CampaignStatus.DELIVERED: (CampaignStatus.OPEN, CampaignStatus.CLOSED, CampaignStatus.DELIVERED),
}


def _campaign_data(data: dict, orgs: dict[str, Organisation]) -> CampaignData:
    """A seed campaign as the campaign service's plain data (suggested campaigns are linked once all exist)."""
    content = {name: data[name] for name in CampaignData.field_names() if name in data}
    content["demands"] = "\n".join(data["demands"])
    return CampaignData(**content, organisation_id=orgs[data["organisation"]].id,
                        partner_ids=[orgs[s].id for s in data["partners"]])


def load_demo() -> tuple[int, int]:
    """Create the demo organisations and campaigns that do not exist yet; returns how many of each were added."""
    from petition_app.demo.content import CAMPAIGNS, ORGANISATIONS

    orgs = {o.slug: o for o in db.session.execute(select(Organisation)).scalars()}
    added_orgs = 0
    for data in ORGANISATIONS:
        if data["slug"] not in orgs:
            orgs[data["slug"]] = organisation_service.add(data["slug"], data["name"], actor="demo", **{
                k: v for k, v in data.items() if k not in ("slug", "name")})
            added_orgs += 1

    existing = {c.slug: c for c in db.session.execute(select(Campaign)).scalars()}
    created: list[tuple[Campaign, dict]] = []
    for data in CAMPAIGNS:
        if data["slug"] in existing:
            continue
        campaign = campaign_service.add(_campaign_data(data, orgs), actor="demo")
        campaign.updates = [
            CampaignUpdate(published_on=date.fromisoformat(u["published_on"]), title=u["title"], body=u["body"])
            for u in data["updates"]
        ]
        for status in _PATH_TO[CampaignStatus(data["status"])]:
            campaign_service.move(campaign, status, actor="demo")
        existing[campaign.slug] = campaign
        created.append((campaign, data))
    for campaign, data in created:
        linked = CampaignData.of(campaign)
        linked.related_ids = [existing[slug].id for slug in data["related"]]
        campaign_service.apply(campaign, linked)
        _add_demo_translations(campaign)
    db.session.commit()
    return added_orgs, len(created)


def _add_demo_translations(campaign: Campaign) -> None:
    """The campaign's versions in other languages from demo/translations.py, marked as demo translations."""
    from petition_app.campaign_versions import save_translation, translatable_languages
    from petition_app.demo.translations import TRANSLATIONS

    for language, texts in TRANSLATIONS.get(campaign.slug, {}).items():
        if language not in translatable_languages(campaign):  # a site configured without that language
            continue
        by_date = {u.published_on.isoformat(): u.id for u in campaign.updates}
        updates = {by_date[day]: pair for day, pair in texts["updates"].items() if day in by_date}
        save_translation(campaign, language, texts, updates, is_demo=True)


@demo_cli.command("load")
def load_command() -> None:
    """Load the demo campaigns (idempotent)."""
    orgs, campaigns = load_demo()
    click.echo(f"Demo content: {orgs} organisations and {campaigns} campaigns added.")


@demo_cli.command("bulk-signatures")
@click.argument("slug")
@click.argument("n", type=click.IntRange(min=1, max=100_000_000))
def bulk_signatures_command(slug: str, n: int) -> None:
    """Add N synthetic, confirmed signatures to a campaign (for benchmarks; nothing personal)."""
    import time

    from petition_app.demo.bulk import bulk_signatures

    campaign = db.session.execute(select(Campaign).where(Campaign.slug == slug)).scalar_one_or_none()
    if campaign is None:
        raise click.ClickException(f"No campaign with the address {slug!r}.")
    started = time.perf_counter()
    bulk_signatures(campaign, n)
    click.echo(f"{slug}: {n} signatures added in {time.perf_counter() - started:.1f} s.")

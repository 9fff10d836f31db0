"""Campaign editing rules, callable without HTTP: checks that need the database, saving, status changes."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from petition_app import audit, counts
from petition_app.admin.access import has_role, visible_organisations
from petition_app.admin.campaign_forms import RELATED_MAX, CampaignForm
from petition_app.campaigns.lifecycle import TRANSITIONS, can_change, change_status  # noqa: F401
from petition_app.extensions import db
from petition_app.i18n import LANGUAGE_NAMES
from petition_app.models import (
    Campaign,
    CampaignStatus,
    Organisation,
    RelatedCampaign,
    Role,
    SlugRedirect,
)

# Fields copied as they are between the form and the model.
PLAIN_FIELDS = (
    "title", "lead", "body", "quote", "quote_attribution", "petition_heading", "targets", "petition_text",
    "demands", "petition_closing", "goal", "goal_fixed", "offline_count", "count_confirmed_only", "deadline",
    "delivery_note", "started_by", "language", "discreet_mail",
)


_CAMPAIGN_PATH = re.compile(r"/campaigns/([^/?#\s]+)")


# -- the form -------------------------------------------------------------------------------------------------------


def set_choices(form: CampaignForm, campaign: Campaign | None) -> None:
    """Fill the select fields: languages, organisations the user edits for, partner organisations."""
    languages = current_app.config["LANGUAGES"]
    form.language.choices = [(code, LANGUAGE_NAMES.get(code, code)) for code in languages]
    form.organisation.choices = [(o.id, o.name) for o in visible_organisations(Role.EDITOR)]
    everyone = db.session.execute(select(Organisation).order_by(Organisation.name)).scalars()
    if campaign is not None:
        running = campaign.organisation_id
    else:  # a new campaign: known only when the user edits for a single organisation
        running = form.organisation.choices[0][0] if len(form.organisation.choices) == 1 else None
    form.partners.choices = [(o.id, o.name) for o in everyone if o.id != running]


def form_data(campaign: Campaign) -> dict:
    """The form's initial values for an existing campaign."""
    data = {name: getattr(campaign, name) for name in PLAIN_FIELDS}
    data["slug"] = campaign.slug
    data["organisation"] = campaign.organisation_id
    data["partners"] = [o.id for o in campaign.partners]
    data["related"] = "\n".join(db.session.execute(
        select(Campaign.slug).join(RelatedCampaign, RelatedCampaign.related_id == Campaign.id)
        .where(RelatedCampaign.campaign_id == campaign.id).order_by(RelatedCampaign.position)).scalars())
    return data


def related_candidates(campaign: Campaign | None) -> list[Campaign]:
    """Campaigns an editor may link to: every public one, and the drafts of their own organisations."""
    own = [o.id for o in visible_organisations(Role.VIEWER)]
    query = (select(Campaign)
             .where(or_(Campaign.status != CampaignStatus.DRAFT, Campaign.organisation_id.in_(own)))
             .order_by(Campaign.title).limit(500))
    if campaign is not None:
        query = query.where(Campaign.id != campaign.id)
    return list(db.session.execute(query).scalars())


def _slug_from_line(line: str) -> str:
    """Accept a bare address part ("stop-the-bill") or a pasted link (".../campaigns/stop-the-bill#sign")."""
    found = _CAMPAIGN_PATH.search(line)
    return (found.group(1) if found else line).strip().strip("/").lower()


def resolve_related(text: str, campaign: Campaign | None) -> tuple[list[int], list[str]]:
    """The ids of the campaigns listed one per line, in order, and the problems found (one per bad line)."""
    lines = [(number, line.strip()) for number, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    if len(lines) > RELATED_MAX:
        return [], [_("List at most %(num)s campaigns.", num=RELATED_MAX)]
    slugs = {_slug_from_line(line) for _n, line in lines}
    by_slug = {c.slug: c for c in db.session.execute(select(Campaign).where(Campaign.slug.in_(slugs))).scalars()}
    renamed = db.session.execute(select(SlugRedirect).where(SlugRedirect.old_slug.in_(slugs))).scalars().all()
    if renamed:
        targets = {c.id: c for c in db.session.execute(
            select(Campaign).where(Campaign.id.in_([r.campaign_id for r in renamed]))).scalars()}
        for r in renamed:
            by_slug.setdefault(r.old_slug, targets[r.campaign_id])

    ids: list[int] = []
    problems: list[str] = []
    for number, line in lines:
        found = by_slug.get(_slug_from_line(line))
        if found is not None and not (found.is_public or has_role(found.organisation_id, Role.VIEWER)):
            found = None  # other organisations' drafts stay invisible
        if found is None:
            problems.append(_("Line %(num)s: there is no campaign at “%(slug)s”.", num=number, slug=line[:120]))
        elif campaign is not None and found.id == campaign.id:
            problems.append(_("Line %(num)s: a campaign cannot link to itself.", num=number))
        elif found.id in ids:
            problems.append(_("Line %(num)s: “%(slug)s” is listed twice.", num=number, slug=found.slug))
        else:
            ids.append(found.id)
    return ids, problems


def slug_taken(slug: str, campaign_id: int | None) -> bool:
    """True when another campaign uses the address, now or as a former address that still redirects."""
    owner = db.session.execute(select(Campaign.id).where(Campaign.slug == slug)).scalar_one_or_none()
    if owner is not None and owner != campaign_id:
        return True
    former = db.session.execute(
        select(SlugRedirect.campaign_id).where(SlugRedirect.old_slug == slug)).scalar_one_or_none()
    return former is not None and former != campaign_id


def check_campaign(form: CampaignForm, campaign: Campaign | None) -> list[int] | None:
    """Checks that need the database, run beside the form's own so that every problem shows at once.

    Errors go on the fields; returns the related campaign ids, or None when something is wrong.
    """
    ok = True
    if not form.slug.errors and slug_taken(form.slug.data, campaign.id if campaign is not None else None):
        form.slug.errors.append(_("This address is taken. Please choose another."))
        ok = False
    organisation = form.organisation.data if not form.organisation.errors else None
    if organisation is not None and not has_role(organisation, Role.EDITOR):  # the choices say so too
        form.organisation.errors.append(_("You cannot move campaigns to this organisation."))
        ok = False
    if organisation is not None and not form.partners.errors and organisation in (form.partners.data or []):
        form.partners.errors.append(_("The organisation that runs the campaign cannot also be its partner."))
        ok = False
    related: list[int] = []
    if not form.related.errors:
        related, problems = resolve_related(form.related.data, campaign)
        if problems:
            form.related.errors.extend(problems)
            ok = False
    return related if ok else None


# -- saving ---------------------------------------------------------------------------------------------------------


def _form_value(form: CampaignForm, name: str):
    value = form[name].data
    if name == "offline_count":
        return value or 0
    if value is None and name not in ("goal", "deadline"):
        return ""
    return value


def _set_related(campaign: Campaign, related_ids: list[int]) -> bool:
    """Make the campaign's links match the list, updating rows in place (their key is the pair of campaigns)."""
    before = [link.related_id for link in campaign.related_links]
    if before == related_ids:
        return False
    existing = {link.related_id: link for link in campaign.related_links}
    for related_id, link in existing.items():
        if related_id not in related_ids:
            campaign.related_links.remove(link)
    for position, related_id in enumerate(related_ids):
        link = existing.get(related_id)
        if link is None:
            campaign.related_links.append(RelatedCampaign(related_id=related_id, position=position))
        else:
            link.position = position
    return True


def apply_form(campaign: Campaign, form: CampaignForm, related_ids: list[int]) -> list[str]:
    """Copy the checked form onto the campaign (not committed); returns the names of the fields that changed."""
    changed = []
    for name in PLAIN_FIELDS:
        value = _form_value(form, name)
        if getattr(campaign, name) != value:
            setattr(campaign, name, value)
            changed.append(name)

    new_slug = form.slug.data
    if campaign.slug is not None and new_slug != campaign.slug:
        # The old address keeps working; going back to a former address frees that redirect.
        back = db.session.get(SlugRedirect, new_slug)
        if back is not None:
            db.session.delete(back)
        db.session.add(SlugRedirect(old_slug=campaign.slug, campaign_id=campaign.id))
        changed.append("slug")
    campaign.slug = new_slug

    if campaign.organisation_id != form.organisation.data:
        campaign.organisation = db.session.get(Organisation, form.organisation.data)
        changed.append("organisation")

    partner_ids = list(form.partners.data or [])
    if {o.id for o in campaign.partners} != set(partner_ids):
        campaign.partners = list(db.session.execute(
            select(Organisation).where(Organisation.id.in_(partner_ids))).scalars()) if partner_ids else []
        changed.append("partners")

    if _set_related(campaign, related_ids):
        changed.append("related")
    return changed


def create_campaign(form: CampaignForm, related_ids: list[int]) -> Campaign:
    """Add a new draft campaign from the checked form and commit it."""
    campaign = Campaign(status=CampaignStatus.DRAFT, slug=form.slug.data,
                        organisation=db.session.get(Organisation, form.organisation.data))
    db.session.add(campaign)
    apply_form(campaign, form, related_ids)
    db.session.flush()
    audit.record("campaign created", campaign.slug, campaign.organisation_id)
    db.session.commit()
    counts.forget(campaign.slug)
    return campaign


def update_campaign(campaign: Campaign, form: CampaignForm, related_ids: list[int]) -> list[str]:
    """Save the checked form over the campaign, audit what changed, and refresh the counters it affects."""
    old_slug, old_org, old_confirmed_only = campaign.slug, campaign.organisation_id, campaign.count_confirmed_only
    changed = apply_form(campaign, form, related_ids)
    if not changed:
        return changed
    detail = "changed: " + ", ".join(changed)
    if "slug" in changed:
        detail += f"; address {old_slug} → {campaign.slug}"
    audit.record("campaign edited", campaign.slug, campaign.organisation_id, detail)
    if campaign.organisation_id != old_org:
        audit.record("campaign moved away", campaign.slug, old_org, detail)
    db.session.commit()
    if campaign.count_confirmed_only != old_confirmed_only:
        counts.recount(campaign)
    counts.forget(old_slug)
    counts.forget(campaign.slug)
    return changed


# -- status ---------------------------------------------------------------------------------------------------------


def parse_status(value: str | None) -> CampaignStatus | None:
    try:
        return CampaignStatus(value or "")
    except ValueError:
        return None



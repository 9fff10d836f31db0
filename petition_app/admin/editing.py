"""The admin's campaign form as an adapter onto campaigns.service: choices, checks that need the user, plain data.

The rules themselves (saving, addresses, status changes) live in `petition_app.campaigns.service`.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from petition_app.admin.access import has_role, visible_organisations
from petition_app.admin.campaign_forms import RELATED_MAX, CampaignForm
from petition_app.campaigns.service import PLAIN_FIELDS, CampaignData, slug_taken
from petition_app.extensions import db
from petition_app.i18n import LANGUAGE_NAMES
from petition_app.models import (
    Campaign,
    Organisation,
    RelatedCampaign,
    Role,
    SlugRedirect,
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
             .where(or_(Campaign.is_public, Campaign.organisation_id.in_(own)))
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


# -- the checked form as plain data ----------------------------------------------------------------------------------


def _form_value(form: CampaignForm, name: str):
    value = form[name].data
    if name == "offline_count":
        return value or 0
    if value is None and name not in ("goal", "deadline"):
        return ""
    return value


def campaign_data(form: CampaignForm, related_ids: list[int]) -> CampaignData:
    """The checked form as the service's plain data."""
    return CampaignData(
        slug=form.slug.data, organisation_id=form.organisation.data,
        partner_ids=list(form.partners.data or []), related_ids=related_ids,
        **{name: _form_value(form, name) for name in PLAIN_FIELDS},
    )

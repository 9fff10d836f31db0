"""A campaign's picture and an organisation's logo: set, described, removed; each change audited and committed.

The picture's files are written before the transaction (images.store_image). Once it commits, the replaced
picture's files are deleted if nothing names them any more; if it rolls back, the new picture's are (the session's
after_commit / after_rollback events, see images.release_after_commit).
"""

from __future__ import annotations

from petition_app import audit, images, sharecards
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignImage, Organisation, OrganisationLogo
from petition_app.models.base import utcnow


def _apply(row, stored: images.StoredImage) -> None:
    row.name, row.width, row.height, row.widths = stored.name, stored.width, stored.height, stored.widths_text


def _commit(old_name: str | None, new_name: str | None) -> None:
    """Commit; the old picture's files go after the commit, the new one's if the commit fails."""
    if old_name != new_name:
        images.release_after_commit(old_name)
    images.release_after_rollback(new_name)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def set_campaign_picture(campaign: Campaign, stored: images.StoredImage | None, alt: str) -> CampaignImage:
    """Give the campaign this picture (or, with `stored` None, a new description of its current one); commit."""
    row = campaign.image
    old_name = row.name if row else None
    if row is None:
        row = CampaignImage(campaign_id=campaign.id)
    if stored:
        _apply(row, stored)
    row.alt = alt
    db.session.add(row)
    campaign.updated_at = row.updated_at = utcnow()
    audit.record("campaign picture set" if stored else "campaign picture description changed", campaign.slug,
                 campaign.organisation_id, row.name)
    _commit(old_name, stored.name if stored else None)
    sharecards.forget(campaign.id)
    return row


def remove_campaign_picture(campaign: Campaign) -> None:
    """Take the campaign's picture away, audited, and commit (its files go once nothing names them)."""
    row = campaign.image
    if row is None:
        return
    name = row.name
    db.session.delete(row)
    campaign.updated_at = utcnow()
    audit.record("campaign picture removed", campaign.slug, campaign.organisation_id, name)
    _commit(name, None)
    sharecards.forget(campaign.id)


def set_organisation_logo(organisation: Organisation, stored: images.StoredImage) -> OrganisationLogo:
    """Give the organisation this logo, audited, and commit."""
    row = organisation.logo
    old_name = row.name if row else None
    if row is None:
        row = OrganisationLogo(organisation_id=organisation.id)
    _apply(row, stored)
    row.updated_at = utcnow()
    db.session.add(row)
    audit.record("organisation logo set", organisation.slug, organisation.id, row.name)
    _commit(old_name, stored.name)
    return row


def remove_organisation_logo(organisation: Organisation) -> None:
    """Take the organisation's logo away, audited, and commit (its files go once nothing names them)."""
    row = organisation.logo
    if row is None:
        return
    name = row.name
    db.session.delete(row)
    audit.record("organisation logo removed", organisation.slug, organisation.id, name)
    _commit(name, None)

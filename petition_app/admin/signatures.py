"""A campaign's signatures (owners): search, and erasure at a signer's request."""

from __future__ import annotations

import unicodedata

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import or_, select

from petition_app import audit
from petition_app.admin import bp
from petition_app.admin.access import campaign_view
from petition_app.extensions import db
from petition_app.models import Campaign, Role, Signature
from petition_app.privacy import email_hash
from petition_app.signing.service import withdraw

PAGE_SIZE = 50


def search_terms(q: str) -> str:
    """The query as names are stored: NFC, no control characters (PostgreSQL refuses NUL), trimmed."""
    return "".join(char for char in unicodedata.normalize("NFC", q)
                   if not unicodedata.category(char).startswith("C")).strip()


def search(campaign: Campaign, q: str):
    """Signatures of a campaign, newest first: an address finds its signature by keyed hash (exact, any case),
    other words each match the start or any part of the first or last name, in any case."""
    query = select(Signature).where(Signature.campaign_id == campaign.id)
    q = search_terms(q)
    if "@" in q:
        query = query.where(Signature.email_hash == email_hash(q))
    else:
        for word in q.split()[:5]:
            query = query.where(or_(Signature.first_name.icontains(word, autoescape=True),
                                    Signature.last_name.icontains(word, autoescape=True)))
    return query.order_by(Signature.id.desc())


@bp.route("/campaigns/<int:campaign_id>/signatures", methods=["GET", "POST"])
@campaign_view(Role.OWNER)
def signatures(campaign: Campaign):
    # Searches are POSTed so that addresses and names stay out of URLs, server logs and browser history.
    q = search_terms(request.form.get("q", "")[:254]) if request.method == "POST" else ""
    source = request.form if request.method == "POST" else request.args
    page_number = min(max(1, source.get("page", 1, type=int) or 1), 10**6)  # a huge offset overflows PostgreSQL
    page = db.paginate(search(campaign, q), page=page_number, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/signatures.html", campaign=campaign, page=page, q=q)


def _campaign_signature_or_404(campaign: Campaign, signature_id: int) -> Signature:
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.campaign_id != campaign.id:
        abort(404)
    return signature


@bp.route("/campaigns/<int:campaign_id>/signatures/<int:signature_id>/delete", methods=["GET", "POST"])
@campaign_view(Role.OWNER)
def signature_delete(campaign: Campaign, signature_id: int):
    """Erase a signature at its signer's request: a confirmation page (GET), then the erasure (POST)."""
    signature = _campaign_signature_or_404(campaign, signature_id)
    if request.method == "POST":
        audit.record("signature erased", f"{campaign.slug} signature {signature_id}", campaign.organisation_id)
        withdraw(signature)  # commits the audit entry with the erasure
        flash(_("The signature was erased."))
        return redirect(url_for("admin.signatures", campaign_id=campaign.id), code=303)
    return render_template("admin/signature_delete.html", campaign=campaign, signature=signature)

"""Campaign overview and statistics (viewers); signatures, erasure and exports with personal data (owners)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from petition_app import audit, exports, mailer, stats
from petition_app.admin import bp
from petition_app.admin.access import campaign_view, has_role
from petition_app.campaigns.service import TRANSITIONS
from petition_app.extensions import db
from petition_app.models import Campaign, CampaignStatus, Role, Signature
from petition_app.privacy import email_hash
from petition_app.signing.service import withdraw

PAGE_SIZE = 50


@bp.app_template_global()
def has_endpoint(endpoint: str) -> bool:
    """Whether a view exists, so a page can link to views that another part of the admin adds."""
    return endpoint in current_app.view_functions


@bp.get("/campaigns/<int:campaign_id>")
@campaign_view(Role.VIEWER)
def campaign(campaign: Campaign):
    status_labels = {
        CampaignStatus.OPEN: _("Open for signing"),
        CampaignStatus.CLOSED: _("Close"),
        CampaignStatus.DELIVERED: _("Mark as delivered"),
    }
    return render_template(
        "admin/campaign.html", campaign=campaign, overview=stats.overview(campaign),
        outbox=mailer.outbox_state(campaign.id), can_edit=has_role(campaign.organisation_id, Role.EDITOR),
        is_owner=has_role(campaign.organisation_id, Role.OWNER),
        status_links=[(status, status_labels[status]) for status in TRANSITIONS[campaign.status]],
    )


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


def _audit_export(campaign: Campaign, action: str) -> None:
    audit.record(action, campaign.slug, campaign.organisation_id)
    db.session.commit()


def _csv_response(chunks: Iterable[str], filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/campaigns/<int:campaign_id>/outbox/retry")
@campaign_view(Role.EDITOR)
def outbox_retry(campaign: Campaign):
    """Queue the campaign's failed mails again, once the mail server is fixed."""
    queued = mailer.retry_failed(campaign.id)
    audit.record("failed mails queued again", campaign.slug, campaign.organisation_id, f"{queued} messages")
    db.session.commit()
    flash(_("%(num)s failed mails were queued again.", num=queued))
    return redirect(url_for("admin.campaign", campaign_id=campaign.id), code=303)


def _sealed_notice(campaign: Campaign):
    """Sealed names cannot be opened on the server: say how the organisation opens them on its own machine."""
    return render_template("admin/sealed_export.html", campaign=campaign), 409


@bp.get("/campaigns/<int:campaign_id>/export/delivery.csv")
@campaign_view(Role.OWNER)
def export_delivery_csv(campaign: Campaign):
    if campaign.organisation.public_key:
        return _sealed_notice(campaign)
    _audit_export(campaign, "delivery export downloaded")
    return _csv_response(exports.delivery_csv(campaign), f"{campaign.slug}-delivery.csv")


@bp.get("/campaigns/<int:campaign_id>/export/full.csv")
@campaign_view(Role.OWNER)
def export_full_csv(campaign: Campaign):
    _audit_export(campaign, "full export downloaded")
    return _csv_response(exports.full_csv(campaign), f"{campaign.slug}-full.csv")


def _stream_template(template: str, buffer_items: int = 500, **context) -> Response:
    """Render a template as it is sent, a few hundred pieces per chunk rather than one write per piece."""
    app = current_app._get_current_object()
    app.update_template_context(context)
    stream = app.jinja_env.get_template(template).stream(context)
    stream.enable_buffering(buffer_items)
    return Response(stream_with_context(stream), mimetype="text/html")


@bp.get("/campaigns/<int:campaign_id>/export/delivery.html")
@campaign_view(Role.OWNER)
def export_delivery_html(campaign: Campaign):
    if campaign.organisation.public_key:
        return _sealed_notice(campaign)
    _audit_export(campaign, "delivery list opened")
    delivery = exports.delivery_by_country(campaign, str(get_locale()))
    return _stream_template("admin/delivery_print.html", campaign=campaign, delivery=delivery)

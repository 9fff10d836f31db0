"""Signature exports with personal data (owners): delivery lists and the full CSV, each audited."""

from __future__ import annotations

from collections.abc import Iterable

from flask import (
    Response,
    current_app,
    render_template,
    stream_with_context,
)
from flask_babel import get_locale

from petition_app import audit, exports
from petition_app.admin import bp
from petition_app.admin.access import campaign_view
from petition_app.models import Campaign, Role


def _audit_export(campaign: Campaign, action: str) -> None:
    audit.log(action, campaign.slug, campaign.organisation_id)


def _csv_response(chunks: Iterable[str], filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response



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

"""Webhook endpoints of an organisation: owners register, change, test and delete them and read the delivery log."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from petition_app import webhooks
from petition_app.admin import bp
from petition_app.admin.access import organisation_view
from petition_app.extensions import db
from petition_app.models import DeliveryStatus, Organisation, Role, WebhookDelivery, WebhookDetail, WebhookEndpoint
from petition_app.validators import NoControlCharacters, clean_text


def event_labels() -> dict[str, str]:
    return {
        webhooks.SIGNATURE_CONFIRMED: _("A signature is confirmed"),
        webhooks.SIGNATURE_WITHDRAWN: _("A confirmed signature is withdrawn"),
        webhooks.CAMPAIGN_STATUS_CHANGED: _("A campaign opens, closes or is delivered"),
    }


class WebhookForm(FlaskForm):
    url = StringField(_l("Address (https://…)"), filters=[clean_text],
                      validators=[DataRequired(), Length(max=webhooks.MAX_URL_LENGTH), NoControlCharacters()],
                      render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"})
    description = StringField(_l("Description (optional)"), filters=[clean_text],
                              validators=[Length(max=200), NoControlCharacters()])
    events = SelectMultipleField(_l("Events"), choices=[SelectChoice(e) for e in webhooks.EVENTS],
                                 validators=[DataRequired(message=_l("Choose at least one event."))])
    detail = RadioField(_l("What signature events send"), default=WebhookDetail.COUNTS.value,
                        choices=[SelectChoice(WebhookDetail.COUNTS.value, _l("Counts only: the campaign and its total")),
                                 SelectChoice(WebhookDetail.SIGNER.value,
                                              _l("Signer details too (for sealed organisations: the sealed box)"))])
    enabled = BooleanField(_l("Enabled"), default=True)


def _endpoint_or_404(organisation: Organisation, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.organisation_id != organisation.id:
        abort(404)
    return endpoint


def _render_list(organisation: Organisation, form: WebhookForm, status: int = 200):
    return render_template("admin/webhooks.html", organisation=organisation, form=form,
                           endpoints=webhooks.endpoints_of(organisation.id), event_labels=event_labels(),
                           sealed=bool(organisation.public_key)), status


@bp.route("/orgs/<org_slug>/webhooks", methods=["GET", "POST"])
@organisation_view(Role.OWNER)
def webhooks_list(organisation: Organisation):
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = webhooks.create_endpoint(organisation, form.url.data, form.events.data,
                                                        WebhookDetail(form.detail.data), form.description.data)
        except webhooks.UrlRefused as refused:
            form.url.errors.append(_("Deliveries cannot go to this address: %(reason)s.", reason=str(refused)))
        else:
            return render_template("admin/webhook_secret.html", organisation=organisation, endpoint=endpoint,
                                   secret=secret, created=True)
    return _render_list(organisation, form, 422 if form.errors else 200)


@bp.route("/orgs/<org_slug>/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@organisation_view(Role.OWNER)
def webhook(organisation: Organisation, endpoint_id: int):
    endpoint = _endpoint_or_404(organisation, endpoint_id)
    form = WebhookForm(data={"url": endpoint.url, "description": endpoint.description,
                             "events": endpoint.event_types, "detail": endpoint.detail.value,
                             "enabled": endpoint.enabled})
    if form.validate_on_submit():
        try:
            webhooks.update_endpoint(endpoint, form.url.data, form.events.data, WebhookDetail(form.detail.data),
                                     form.enabled.data, form.description.data)
        except webhooks.UrlRefused as refused:
            form.url.errors.append(_("Deliveries cannot go to this address: %(reason)s.", reason=str(refused)))
        else:
            flash(_("The webhook was saved."))
            return redirect(url_for("admin.webhook", org_slug=organisation.slug, endpoint_id=endpoint.id), code=303)
    return render_template("admin/webhook.html", organisation=organisation, endpoint=endpoint, form=form,
                           deliveries=webhooks.deliveries_of(endpoint.id), event_labels=event_labels(),
                           sealed=bool(organisation.public_key), FAILED=DeliveryStatus.FAILED), \
        422 if form.errors else 200


@bp.post("/orgs/<org_slug>/webhooks/<int:endpoint_id>/secret")
@organisation_view(Role.OWNER)
def webhook_rotate(organisation: Organisation, endpoint_id: int):
    endpoint = _endpoint_or_404(organisation, endpoint_id)
    secret = webhooks.rotate_secret(endpoint)
    return render_template("admin/webhook_secret.html", organisation=organisation, endpoint=endpoint, secret=secret,
                           created=False)


@bp.post("/orgs/<org_slug>/webhooks/<int:endpoint_id>/test")
@organisation_view(Role.OWNER)
def webhook_test(organisation: Organisation, endpoint_id: int):
    endpoint = _endpoint_or_404(organisation, endpoint_id)
    webhooks.send_test(endpoint)
    flash(_("A test event is queued; the worker sends it within moments. Its outcome shows in the log below.")
          if endpoint.enabled else _("A test event is queued; it is sent once the webhook is enabled again."))
    return redirect(url_for("admin.webhook", org_slug=organisation.slug, endpoint_id=endpoint.id), code=303)


@bp.post("/orgs/<org_slug>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
@organisation_view(Role.OWNER)
def webhook_replay(organisation: Organisation, endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(organisation, endpoint_id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        abort(404)
    try:
        webhooks.replay(delivery)
    except ValueError:
        flash(_("Only a failed delivery can be sent again."))
    else:
        flash(_("The delivery is queued again, with the same webhook-id."))
    return redirect(url_for("admin.webhook", org_slug=organisation.slug, endpoint_id=endpoint.id), code=303)


@bp.post("/orgs/<org_slug>/webhooks/<int:endpoint_id>/delete")
@organisation_view(Role.OWNER)
def webhook_delete(organisation: Organisation, endpoint_id: int):
    endpoint = _endpoint_or_404(organisation, endpoint_id)
    webhooks.delete_endpoint(endpoint)
    flash(_("The webhook and its delivery log were deleted."))
    return redirect(url_for("admin.webhooks_list", org_slug=organisation.slug), code=303)

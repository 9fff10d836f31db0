"""POST /campaigns/<slug>/sign, for htmx and for plain forms alike."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_htmx import make_response as htmx_response
from jinja2_fragments.flask import render_block

from petition_app.campaigns.queries import public_campaign_or_404
from petition_app.campaigns.views import campaign_context
from petition_app.extensions import htmx, limiter
from petition_app.signing.forms import SignForm
from petition_app.signing.service import Outcome, SignatureInput, sign

bp = Blueprint("signing", __name__)


def _sign_limit() -> str:
    return current_app.config["RATELIMIT_SIGN"]


@bp.post("/campaigns/<slug>/sign")
@limiter.limit(_sign_limit)
def sign_view(slug: str):
    campaign = public_campaign_or_404(slug)
    locale = str(get_locale())
    form = SignForm(locale=locale)
    if not campaign.is_open:
        return _render_form(campaign, form, status=409)
    if not form.validate_on_submit():
        return _render_form(campaign, form, status=422)
    if not form.is_bot:
        outcome = sign(
            campaign,
            SignatureInput(
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                email=form.email.data,
                country=form.country.data,
                phone=form.phone.data or None,
                consent_email=form.consent_email.data,
                consent_sms=form.consent_sms.data,
                consent_share=form.consent_share.data,
                language=locale,
            ),
        )
        if outcome is Outcome.CLOSED:
            return _render_form(campaign, form, status=409)
    if not htmx:
        return redirect(url_for("campaigns.thanks", slug=campaign.slug), code=303)
    context = campaign_context(campaign, thanks=True)
    body = render_block("campaigns/show.html", "sign_region", **context) + render_template(
        "campaigns/_counter_oob.html", snap=context["snap"]
    )
    return htmx_response(body, trigger="signed")


def _render_form(campaign, form, status: int):
    context = campaign_context(campaign, form=form)
    if htmx:
        return render_block("campaigns/show.html", "sign_region", **context), status
    return render_template("campaigns/show.html", **context), status

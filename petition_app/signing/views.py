"""POST /campaigns/<slug>/sign, for htmx and for plain forms alike."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_htmx import make_response as htmx_response
from jinja2_fragments.flask import render_block

from petition_app import campaign_versions as translations
from petition_app import counts, tokens
from petition_app.campaigns.queries import campaign_context, more_actions, public_campaign_or_404
from petition_app.embed.origins import framing_origins
from petition_app.extensions import csrf, db, htmx, limiter
from petition_app.i18n import prefer_signer_language
from petition_app.models import Campaign
from petition_app.pagecache import cached_body
from petition_app.signing.forms import SignForm
from petition_app.signing.service import (
    Outcome,
    SignatureInput,
    SigningTarget,
    confirm_link,
    sign,
    signature_for,
    signing_target,
)
from petition_app.signing.service import unsubscribe as service_unsubscribe
from petition_app.signing.service import withdraw as service_withdraw

bp = Blueprint("signing", __name__)
translations.register(bp)  # the <lang:...> converter, before the routes


def _sign_limit() -> str:
    return current_app.config["RATELIMIT_SIGN"]


def _embedded(slug: str) -> bool:
    """A form sent from the embeddable page: answer in that page, framed as that page is (see embed/views.py)."""
    if request.form.get("embed") != "1":
        return False
    g.frame_ancestors = framing_origins(slug)
    return True


@bp.post("/campaigns/<slug>/sign")
@bp.post("/<lang:lang>/campaigns/<slug>/sign")  # a version's form: the signer's language is the version's
@limiter.limit(_sign_limit)
def sign_view(slug: str):
    # A few columns, not the campaign with its texts: the whole campaign is read only to render a page.
    target = signing_target(slug) or SigningTarget.of(public_campaign_or_404(slug))  # or its former address
    locale = str(get_locale())
    form = SignForm(locale=locale)
    g.embedded = _embedded(target.slug)
    if not target.is_open:
        return _render_form(public_campaign_or_404(target.slug), form, status=409)
    if not form.validate_on_submit():
        return _render_form(public_campaign_or_404(target.slug), form, status=422)
    if not form.is_bot:
        outcome = sign(
            target,
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
            return _render_form(public_campaign_or_404(target.slug), form, status=409)
    if not htmx:
        thanks = "embed.thanks" if g.embedded else "campaigns.thanks"
        return redirect(url_for(thanks, slug=target.slug), code=303)
    # The thanks and the counters, the same for every signer while the cached count stands: rendered once.
    snap = counts.cached_snapshot(target.slug) or {}
    name = f"signed:{_page()}:{target.id}:{snap.get('count')}:{snap.get('goal')}:{snap.get('open')}"
    return htmx_response(cached_body(name, lambda: _signed_answer(target.slug)), trigger="signed")


def _signed_answer(slug: str) -> str:
    context = _context(public_campaign_or_404(slug), thanks=True)
    context["snap"] = counts.cached_snapshot(slug) or context["snap"]  # the count the cache key names
    return render_block(_page(), "sign_region", **context) + render_template(
        "campaigns/_counter_oob.html", snap=context["snap"])


def _page() -> str:
    return "embed/show.html" if g.get("embedded") else "campaigns/show.html"


def _context(campaign, form=None, thanks: bool = False) -> dict:
    return {**campaign_context(campaign, form=form, thanks=thanks), "embedded": bool(g.get("embedded"))}


def _render_form(campaign, form, status: int):
    context = _context(campaign, form=form)
    if htmx:
        return render_block(_page(), "sign_region", **context), status
    return render_template(_page(), **context), status


# -- links from the confirmation mail -------------------------------------------------------------------------------
# A GET only shows a page with a button: mail scanners open links, and must not confirm or withdraw anything.


def _link_signature(token: str, purpose: str):
    """The signature a mailed link stands for, its page set in the signer's language; None for a dead link."""
    signature = signature_for(token, purpose)
    if signature is not None:
        prefer_signer_language(signature.language)
    return signature


def _dead_link():
    return render_template("signing/link_invalid.html"), 404


def _link_page(template: str, signature, token: str, done: bool = False, status: int = 200, **extra):
    campaign = db.session.get(Campaign, signature.campaign_id) if signature is not None else None
    if campaign is not None:
        campaign = translations.localised(campaign, str(get_locale()))
    if signature is None and not done:
        return _dead_link()
    return render_template(template, signature=signature, campaign=campaign, token=token, done=done, **extra), status


@bp.route("/s/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_sign_limit)
def confirm(token: str):
    if request.method == "POST":
        signer = confirm_link(token)  # confirms it, if the link is live
        if signer is None:
            return _dead_link()
        prefer_signer_language(signer.language)
        return _confirmed_answer(signer.campaign_id, token)
    signature = _link_signature(token, tokens.CONFIRM)
    if signature is None:
        return _dead_link()
    if signature.confirmed_at is not None:
        return _confirmed_answer(signature.campaign_id, token)
    return _link_page("signing/confirm.html", signature, token)


_LINK_SLOT = "\x00link\x00"  # NUL never reaches a rendered page (refused in input), so it marks only the slot


def _confirmed_answer(campaign_id: int, token: str) -> str:
    # The same page for every signer of the campaign but for the link's own address (in the language links):
    # rendered once with a slot in its place, filled in for each answer.
    body = cached_body(f"confirmed:{campaign_id}",
                       lambda: _confirmed_page(campaign_id, token).replace(token, _LINK_SLOT))
    return body.replace(_LINK_SLOT, token)


def _confirmed_page(campaign_id: int, token: str) -> str:
    # A confirmed signer's next step: sharing, and the organisation's other campaigns.
    campaign = db.session.get(Campaign, campaign_id)
    actions = more_actions(campaign)
    campaign = translations.localised(campaign, str(get_locale())) if campaign is not None else None
    return render_template("signing/confirm.html", campaign=campaign, token=token, done=True, actions=actions)


@bp.route("/s/withdraw/<token>", methods=["GET", "POST"])
@limiter.limit(_sign_limit)
def withdraw(token: str):
    signature = _link_signature(token, tokens.WITHDRAW)
    if signature is None:
        return _dead_link()
    if request.method == "POST":
        campaign = db.session.get(Campaign, signature.campaign_id)
        service_withdraw(signature)
        return render_template("signing/withdraw.html", campaign=campaign, token=token, done=True)
    return _link_page("signing/withdraw.html", signature, token)


@bp.get("/s/unsubscribe/<token>")
@limiter.limit(_sign_limit)
def unsubscribe(token: str):
    signature = _link_signature(token, tokens.UNSUBSCRIBE)
    if signature is None:
        return _dead_link()
    return _link_page("signing/unsubscribe.html", signature, token, done=not signature.consent_email)


@bp.post("/s/unsubscribe/<token>")
@csrf.exempt  # RFC 8058 one-click: the mail client posts without cookies; the token in the URL authorises it
@limiter.limit(_sign_limit)
def unsubscribe_post(token: str):
    signature = _link_signature(token, tokens.UNSUBSCRIBE)
    if signature is None:
        return _dead_link()
    service_unsubscribe(signature)
    return _link_page("signing/unsubscribe.html", signature, token, done=True)

"""Start your campaign: the proposal form, the confirm link, the dashboard link request and the starter's dashboard.

Every form works without JavaScript (POST, then 303 or a 422 page); htmx requests get the form region or a single
field wrapper back instead, rendered from the same templates.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block

from petition_app import counts, site_settings
from petition_app.extensions import htmx, limiter
from petition_app.models import Starter, StarterState
from petition_app.privacy import email_hash
from petition_app.starter import service
from petition_app.starter.forms import LinkRequestForm, StarterUpdateForm, StartForm

bp = Blueprint("starter", __name__, url_prefix="/start")

# Fields whose wrapper /start/check re-renders on its own (the honeypot and the token are not among them).
CHECKED_FIELDS = ("public_name", "email", "title", "lead", "body", "targets", "demands", "goal", "language",
                  "agree_terms")


def _start_limit() -> str:
    return current_app.config["RATELIMIT_START"]


def _link_limit() -> str:
    return current_app.config["RATELIMIT_SIGN"]


def _email_key() -> str:
    """Limit per submitted address too (as its keyed hash), so one address cannot be flooded from many clients."""
    return "start-email:" + email_hash((request.form.get("email") or "")[:254])


def _counts_against_limit(response) -> bool:
    """Only answered proposals count: someone correcting a form is not throttled."""
    return response.status_code in (200, 303)


@bp.after_request
def vary_on_htmx(response):
    response.headers.add("Vary", "HX-Request")
    return response


def _unavailable():
    return render_template("starter/unavailable.html"), 503


# -- the proposal -----------------------------------------------------------------------------------------------------


def _form_page(form: StartForm, status: int = 200, sent: bool = False):
    context = {"form": form, "sent": sent}
    if htmx:
        return render_block("starter/start.html", "start_region", **context), status
    return render_template("starter/start.html", **context), status


@bp.route("", methods=["GET", "POST"])
@limiter.limit(_start_limit, methods=["POST"], deduct_when=_counts_against_limit)
@limiter.limit(_start_limit, methods=["POST"], key_func=_email_key, deduct_when=_counts_against_limit)
def start():
    if service.host_organisation() is None:
        return _unavailable()
    form = StartForm()
    if request.method in ("GET", "HEAD"):
        return _form_page(form)
    if not form.validate_on_submit():
        return _form_page(form, status=422)
    if not form.is_bot:
        service.propose(service.Proposal(
            public_name=form.public_name.data, email=form.email.data, title=form.title.data, lead=form.lead.data,
            body=form.body.data, targets=form.targets.data, demands=form.demands.data, goal=form.goal.data,
            language=form.language.data, contact_language=str(get_locale()),
        ))
    if htmx:
        return _form_page(form, sent=True)
    return redirect(url_for("starter.sent"), code=303)


@bp.post("/check")
@limiter.limit(_link_limit)
def check():
    """Validate the form as it is and answer with one field's wrapper (its errors, or none), for htmx."""
    name = request.args.get("field", "")
    if name not in CHECKED_FIELDS:
        abort(404)
    form = StartForm()
    form.validate()
    return render_template("starter/_check.html", form=form, field=form[name])


@bp.get("/sent")
def sent():
    return render_template("starter/sent.html")


# -- confirming the address -------------------------------------------------------------------------------------------


def _invalid_link():
    return render_template("starter/link_invalid.html"), 404


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_link_limit)
def confirm(token: str):
    """A GET shows a button (mail scanners open links); only the POST confirms."""
    starter = service.starter_for(token, service.CONFIRM)
    if starter is None:
        return _invalid_link()
    if request.method == "POST":
        service.confirm(starter)
    done = starter.state != StarterState.UNCONFIRMED
    return render_template("starter/confirm.html", starter=starter, campaign=starter.campaign, token=token, done=done)


# -- a fresh dashboard link --------------------------------------------------------------------------------------------


@bp.route("/link", methods=["GET", "POST"])
@limiter.limit(_start_limit, methods=["POST"])
@limiter.limit(_start_limit, methods=["POST"], key_func=_email_key)
def link():
    form = LinkRequestForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("starter/link.html", form=form), 422
        if not form.website.data:
            service.request_links(form.email.data)
        return render_template("starter/link.html", form=form, sent=True)  # the same answer, known address or not
    return render_template("starter/link.html", form=form)


# -- the starter's dashboard ------------------------------------------------------------------------------------------


def _dashboard_starter(token: str) -> Starter | None:
    starter = service.starter_for(token, service.DASHBOARD)
    return starter if starter is not None and starter.state == StarterState.APPROVED else None


@bp.route("/dashboard/<token>", methods=["GET", "POST"])
@limiter.limit(_link_limit)
def dashboard(token: str):
    starter = _dashboard_starter(token)
    if starter is None:
        return _invalid_link()
    campaign = starter.campaign
    form = StarterUpdateForm()
    status = 200
    posted = False
    if request.method == "POST":
        if form.validate_on_submit():
            service.post_update(starter, form.title.data, form.body.data)
            return redirect(url_for("starter.dashboard", token=token, posted=1), code=303)
        status = 422
    else:
        posted = request.args.get("posted") == "1"
    sealed = service.names_are_sealed(campaign)
    return render_template(
        "starter/dashboard.html", starter=starter, campaign=campaign, token=token, form=form, posted=posted,
        snap=counts.snapshot(campaign), countries=service.country_counts(campaign), sealed=sealed,
        delivery_count=None if sealed else service.delivery_count(campaign),
        pending_updates=service.campaign_updates(campaign, approved=False),
        published_updates=service.campaign_updates(campaign, approved=True),
    ), status


def _delivery_campaign(token: str):
    """The campaign whose delivery list this dashboard link opens, or the answer refusing it."""
    starter = _dashboard_starter(token)
    if starter is None:
        return None, _invalid_link()
    if service.names_are_sealed(starter.campaign):
        return None, (render_template("starter/sealed.html", campaign=starter.campaign, token=token), 409)
    return starter.campaign, None


@bp.get("/dashboard/<token>/delivery.csv")
@limiter.limit(_link_limit)
def delivery_csv(token: str):
    campaign, refusal = _delivery_campaign(token)
    if refusal is not None:
        return refusal
    filename = f"{campaign.slug}-delivery-{date.today().isoformat()}.csv"
    return Response(
        stream_with_context(service.delivery_csv(campaign)), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.get("/dashboard/<token>/delivery")
@limiter.limit(_link_limit)
def delivery(token: str):
    campaign, refusal = _delivery_campaign(token)
    if refusal is not None:
        return refusal
    return render_template("starter/delivery.html", campaign=campaign, token=token,
                           total=service.delivery_count(campaign), rows=service.delivery_rows(campaign))


def call_to_action() -> str:
    """The "Start your campaign" invitation: the site setting in the visitor's language, START_CALL_TO_ACTION, or
    the default in the visitor's language."""
    return site_settings.value("start_invitation", str(get_locale())) or current_app.config.get(
        "START_CALL_TO_ACTION") or _(
        "Is there an issue impacting LGBT+ people in your community? Start your campaign.")


@bp.app_context_processor
def starter_globals():
    return {"start_call_to_action": call_to_action}

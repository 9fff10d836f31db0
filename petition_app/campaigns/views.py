"""Public campaign pages and their live regions."""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request
from flask_babel import get_locale
from jinja2_fragments.flask import render_block

from petition_app import campaign_versions as translations
from petition_app import counts, fastpath
from petition_app.campaigns import share
from petition_app.campaigns.queries import (
    campaign_context,
    open_campaigns,
    public_campaign_or_404,
    redirect_to_current_slug,
    renamed_campaign,
)
from petition_app.pagecache import encoded_response, public_page
from petition_app.signing.forms import SignForm

bp = Blueprint("campaigns", __name__)
translations.register(bp)  # the <lang:...> converter, before the routes


@bp.get("/")
@public_page
def index():
    campaigns = open_campaigns()
    return render_template(
        "campaigns/index.html", campaigns=translations.localise_all(campaigns, str(get_locale())),
        snapshots={c.id: counts.snapshot(c) for c in campaigns},
    )


@bp.get("/campaigns/<slug>")
@bp.get("/<lang:lang>/campaigns/<slug>")
@public_page
def show(slug: str):
    campaign = public_campaign_or_404(slug)
    if (target := translations.source_redirect_target(campaign)) is not None:
        return redirect(target, code=301)
    form = SignForm(locale=str(get_locale()))
    return render_template("campaigns/show.html", **campaign_context(campaign, form=form))


@bp.get("/campaigns/<slug>/thanks")
@bp.get("/<lang:lang>/campaigns/<slug>/thanks")
@public_page
def thanks(slug: str):
    campaign = public_campaign_or_404(slug)
    if (target := translations.source_redirect_target(campaign)) is not None:
        return redirect(target, code=301)
    return render_template("campaigns/thanks.html", **campaign_context(campaign, thanks=True))


@bp.get("/campaigns/<slug>/counter")
@bp.get("/<lang:lang>/campaigns/<slug>/counter")
def counter(slug: str):
    """The counter fragment for polling: rendered once per language while the cached count lasts; 304 on its ETag."""
    seconds = current_app.config["COUNTER_CACHE_SECONDS"]
    cache = current_app.extensions["petition_cache"]
    # A version's fragment polls the version's address: it is kept apart from the source's (see counts.forget).
    version = translations.requested_language()
    key = f"counter-html:{get_locale()}:{version}/{slug}" if version else f"counter-html:{get_locale()}:{slug}"
    entry = cache.get(key) if seconds > 0 else None
    if entry is None:
        snap = counts.cached_snapshot(slug)
        if snap is None:
            renamed = renamed_campaign(slug)
            if renamed is None:
                abort(404)
            return redirect_to_current_slug(renamed.slug)
        body = render_template("campaigns/_counter_fragment.html", snap=snap)
        entry = {"body": body, "etag": hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest(),
                 "at": time.time()}
        if seconds > 0:
            cache.set(key, entry, seconds)
    if seconds > 0:  # this answer may be replayed in front of Flask until the fragment expires (see fastpath)
        request.environ[fastpath.MARKER] = entry.get("at", time.time()) + seconds
    response = encoded_response(entry["body"], entry["etag"])
    response.headers["Cache-Control"] = (
        f"public, max-age={seconds}, stale-while-revalidate={seconds * 2}, stale-if-error=86400")
    response.vary.update(("Accept-Language", "Cookie"))
    return response.make_conditional(request)


@bp.get("/campaigns/<slug>/actions")
@bp.get("/<lang:lang>/campaigns/<slug>/actions")
def actions(slug: str):
    campaign = public_campaign_or_404(slug)
    response = make_response(
        render_block("campaigns/show.html", "actions", **campaign_context(campaign, thanks=True))
    )
    response.headers["Cache-Control"] = "public, max-age=30"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response



@bp.get("/campaigns/<slug>/share-card.jpg")
def share_card(slug: str):
    return share.share_card_response(slug)

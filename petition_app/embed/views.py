"""GET /campaigns/<slug>/embed (and its thanks page): the counter and the sign form, made for a partner's iframe.

The page is a public page like the campaign's own (the same bytes for everyone, no cookie, the shared form token),
so signing inside a frame works with third-party cookies blocked. Its language is the visitor's, chosen by the
usual locale machinery. Only the origins the campaign lists may frame it (`frame-ancestors`); with none listed it
answers like every other page, `frame-ancestors 'none'`.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_babel import get_locale

from petition_app import campaign_versions, counts
from petition_app.campaigns.queries import public_campaign_or_404
from petition_app.embed.origins import framing_origins
from petition_app.pagecache import public_page
from petition_app.signing.forms import SignForm

bp = Blueprint("embed", __name__)
campaign_versions.register(bp)  # the <lang:...> converter, before the routes

TEMPLATE = "embed/show.html"


def allow_framing(slug: str) -> None:
    """Let the campaign's partner origins frame this answer (read by security.set_security_headers)."""
    g.frame_ancestors = framing_origins(slug)


def embed_context(campaign, form=None, thanks: bool = False) -> dict:
    """A version's embed (`/<lang>/campaigns/<slug>/embed`) shows that version's texts and posts to its form."""
    campaign = campaign_versions.localised(campaign, campaign_versions.requested_language())
    return {"campaign": campaign, "snap": counts.snapshot(campaign), "form": form, "thanks": thanks,
            "embedded": True}


@public_page
def _show(slug: str):
    campaign = public_campaign_or_404(slug)
    form = SignForm(locale=str(get_locale()))
    return render_template(TEMPLATE, **embed_context(campaign, form=form))


@public_page
def _thanks(slug: str):
    campaign = public_campaign_or_404(slug)
    return render_template("embed/thanks.html", **embed_context(campaign, thanks=True))


@bp.get("/campaigns/<slug>/embed")
@bp.get("/<lang:lang>/campaigns/<slug>/embed")
def show(slug: str):
    allow_framing(slug)
    return _show(slug)


@bp.get("/campaigns/<slug>/embed/thanks")
@bp.get("/<lang:lang>/campaigns/<slug>/embed/thanks")
def thanks(slug: str):
    allow_framing(slug)
    return _thanks(slug)

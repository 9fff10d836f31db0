"""A campaign's share card (the picture its links unfurl with), drawn by sharecards.py and served from disk."""

from __future__ import annotations

from flask import Response, abort, current_app, request

from petition_app import campaign_versions, sharecards
from petition_app.campaigns.queries import public_campaign_or_404


def share_card_response(slug: str):
    """The current share card of the campaign (in the `lang` version asked for), as a cacheable JPEG answer."""
    campaign = public_campaign_or_404(slug)
    lang = request.args.get("lang") or campaign.language
    if lang not in current_app.config["LANGUAGES"] and lang != campaign.language:
        abort(404)
    shown = campaign_versions.localised(campaign, lang)  # a version's card carries its own title
    for _attempt in range(3):
        path = sharecards.share_card(shown, lambda: campaign.total_count, lang)
        try:
            body = path.read_bytes()
            break
        except FileNotFoundError:  # replaced by a newer card in another worker just now
            continue
    else:
        abort(503)
    response = Response(body, mimetype=sharecards.MIME)
    seconds = current_app.config["SHARE_CARD_SECONDS"]
    response.headers["Cache-Control"] = f"public, max-age={seconds}, stale-while-revalidate={seconds}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(path.stem)
    return response.make_conditional(request)

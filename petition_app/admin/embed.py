"""The embeddable petition in the admin: the partner sites allowed to frame it, and the snippet to copy."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, ValidationError

from petition_app.admin import bp
from petition_app.admin.access import campaign_view
from petition_app.embed.origins import OriginError, origins_of, parse_origins, set_origins
from petition_app.models import Campaign, Role
from petition_app.templating import public_url
from petition_app.validators import NoControlCharacters


class EmbedOriginsForm(FlaskForm):
    origins = TextAreaField(_l("Partner sites allowed to embed this petition"),
                            validators=[Length(max=5000), NoControlCharacters(allow_newlines=True)],
                            render_kw={"rows": 5, "spellcheck": "false", "autocapitalize": "off"})

    def validate_origins(self, field) -> None:
        try:
            self.parsed = parse_origins(field.data or "")
        except OriginError as error:
            raise ValidationError(str(error)) from None


def embed_snippet(campaign: Campaign) -> str:
    """The HTML a partner pastes into a page: the frame, and a few lines that fit its height to the form."""
    src = public_url("embed.show", slug=campaign.slug)
    site = public_url("campaigns.index").rstrip("/")
    title = campaign.title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return (
        f'<iframe src="{src}" title="{title}" data-petition-embed height="720" loading="lazy" '
        'referrerpolicy="no-referrer" style="width:100%;max-width:40rem;border:0"></iframe>\n'
        "<script>\n"
        'addEventListener("message", function (e) {\n'
        f'  if (e.origin !== "{site}" || !e.data || e.data.type !== "petition-embed:height") return;\n'
        '  document.querySelectorAll("iframe[data-petition-embed]").forEach(function (f) {\n'
        "    if (f.contentWindow === e.source) f.height = Math.min(4000, Math.max(200, e.data.height | 0));\n"
        "  });\n"
        "});\n"
        "</script>"
    )


@bp.route("/campaigns/<int:campaign_id>/embed", methods=["GET", "POST"])
@campaign_view(Role.EDITOR)
def campaign_embed(campaign: Campaign):
    form = EmbedOriginsForm()
    if request.method == "GET":
        form.origins.data = "\n".join(origins_of(campaign.id))
    if form.validate_on_submit():
        set_origins(campaign, form.parsed)
        flash(_("The list of partner sites was saved."))
        return redirect(url_for("admin.campaign_embed", campaign_id=campaign.id), code=303)
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("admin/embed.html", campaign=campaign, form=form, snippet=embed_snippet(campaign),
                           origins=origins_of(campaign.id)), status

"""Template filters and globals."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import format_date, format_decimal, get_locale

from petition_app import site_logo, site_settings
from petition_app.i18n import LANGUAGE_NAMES, country_name
from petition_app.markup import plain_excerpt, render_markdown


def public_url(endpoint: str, **values) -> str:
    """An absolute URL on the configured public address (links in mails, shares and meta tags); no request needed."""
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def share_links(url: str, text: str) -> list[tuple[str, str]]:
    """Plain share URLs: no share SDK or tracker loads until the visitor follows one."""
    u, t = quote(url, safe=""), quote(text, safe="")
    return [
        ("WhatsApp", f"https://wa.me/?text={t}%20{u}"),
        ("Telegram", f"https://t.me/share/url?url={u}&text={t}"),
        ("X", f"https://x.com/intent/post?text={t}&url={u}"),
        ("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
        ("Email", f"mailto:?subject={t}&body={t}%0A%0A{u}"),
    ]


def site_stylesheet_url() -> str | None:
    """The stylesheet of the site settings (named by their version, so it can be cached for good), if any."""
    if not site_settings.primary_colour():
        return None
    return url_for("pages.site_css", v=site_settings.version())


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["excerpt"] = plain_excerpt
    app.jinja_env.filters["number"] = lambda n: format_decimal(n)
    app.jinja_env.filters["date"] = lambda d, fmt="d MMMM y": format_date(d, fmt)
    app.jinja_env.filters["country_name"] = lambda code: country_name(code, str(get_locale()))
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def globals_():
        language = str(get_locale())
        return {
            "public_url": public_url,
            "share_links": share_links,
            "languages": LANGUAGE_NAMES,
            "current_language": language,
            "site_name": site_settings.site_name(language),
            "site_footer_text": site_settings.value("footer_text", language),
            "site_css_url": site_stylesheet_url,
            "site_logo": lambda: site_logo.parse(site_settings.value("logo")),
            "poll_seconds": current_app.config["COUNTER_POLL_SECONDS"],
            "current_path": request.full_path.rstrip("?") if has_request_context() else "/",
        }

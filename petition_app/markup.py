"""Markdown to sanitized HTML: whatever an editor types, only safe markup reaches a page."""

from __future__ import annotations

import html as html_lib
from functools import lru_cache

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i", "li", "ol", "p",
    "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


@lru_cache(maxsize=512)
def render_markdown(source: str) -> Markup:
    """Render Markdown and sanitize the result with nh3 (raw HTML in the source is escaped or dropped)."""
    html = md.markdown(source or "", extensions=["sane_lists", "tables"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # Safe: nh3 has just removed every tag and attribute outside the allow-lists.
    return Markup(clean)  # noqa: S704  # nosec B704


@lru_cache(maxsize=512)
def plain_excerpt(source: str, length: int = 200) -> str:
    """A short plain-text excerpt of Markdown, for listings and share texts."""
    text = nh3.clean(md.markdown(source or ""), tags=set())
    text = " ".join(html_lib.unescape(text).split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"

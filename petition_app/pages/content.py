"""The site pages' texts: the shipped defaults and the edited versions, for the public pages and the admin."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from petition_app.extensions import db
from petition_app.models import SitePage

PAGES = ("privacy", "terms", "contact", "faq")
DEFAULTS = Path(__file__).parent / "defaults"


@lru_cache(maxsize=32)
def default_page(name: str, language: str) -> tuple[str, str]:
    """The shipped text of a page as (title, Markdown body), in the language or else English."""
    path = DEFAULTS / language / f"{name}.md"
    if not path.exists():
        path = DEFAULTS / "en" / f"{name}.md"
    text = path.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    return first.lstrip("# ").strip(), rest.strip()


def current_page(name: str, language: str) -> tuple[str, str]:
    """The page as (title, Markdown body): the edited text for the language if there is one, else the shipped one."""
    row = db.session.execute(
        select(SitePage).where(SitePage.name == name, SitePage.language == language)
    ).scalar_one_or_none()
    return (row.title, row.body) if row is not None else default_page(name, language)

"""The site pages' texts: the shipped defaults and the edited versions, for the public pages and the admin."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from petition_app import audit
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
    row = edited_page(name, language)
    return (row.title, row.body) if row is not None else default_page(name, language)


def edited_page(name: str, language: str) -> SitePage | None:
    """The edited page, None while the shipped text is used."""
    return db.session.execute(
        select(SitePage).where(SitePage.name == name, SitePage.language == language)
    ).scalar_one_or_none()


class SavedMeanwhile(Exception):
    """Someone else saved the same page at the same moment; nothing was saved."""


def save_page(name: str, language: str, title: str, body: str) -> SitePage:
    """Save the page's text for the language, audited, and commit; SavedMeanwhile when another save won."""
    page = edited_page(name, language)
    if page is None:
        page = SitePage(name=name, language=language)
        db.session.add(page)
    page.title, page.body = title, body
    audit.record("site page edited", f"{name} ({language})")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SavedMeanwhile from None
    return page


def reset_page(name: str, language: str) -> None:
    """Go back to the shipped text: delete the edited one (if any), audited, and commit."""
    page = edited_page(name, language)
    if page is not None:
        db.session.delete(page)
        audit.record("site page reset", f"{name} ({language})")
        db.session.commit()

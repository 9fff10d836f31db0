"""The contact page ships with example details (address, key fingerprint, onion address) for the site's operators to
replace: until they have, visitors see a neutral text instead, and superusers a reminder in the admin."""

from __future__ import annotations

import re

from flask import current_app

from petition_app.pages.content import current_page

# What the shipped contact page holds in every language: none of it is anyone's real contact.
PLACEHOLDER = re.compile(
    r"example\.(?:org|com|net)\b|Example (?:Organisation|Street|City)|\b0000 0000 0000 0000\b"
    r"|(?:example){2,}[a-z2-7]*\.onion",
    re.IGNORECASE,
)


def has_placeholders(text: str) -> bool:
    return PLACEHOLDER.search(text) is not None


def contact_placeholder_languages() -> list[str]:
    """The languages whose contact page still shows example details."""
    return [language for language in current_app.config["LANGUAGES"]
            if has_placeholders("\n".join(current_page("contact", language)))]

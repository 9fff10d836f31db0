from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from petition_app.extensions import db


class StarterLinkRequest(db.Model):
    """A request for fresh dashboard links, kept as the keyed hash of the typed address until the worker answers it.

    The request itself does the same work for every address (one insert); only the worker looks the address up, so
    neither the answer nor its timing tells whether an address started a campaign.
    """

    __tablename__ = "starter_link_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64))

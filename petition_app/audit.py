"""The admin audit log: who did what, when. Callers pass no signer personal data."""

from __future__ import annotations

from flask_login import current_user

from petition_app.extensions import db
from petition_app.models import AuditEntry


def record(action: str, target: str = "", organisation_id: int | None = None, detail: str = "",
           actor=None) -> None:
    """Add an audit entry to the current transaction (the caller commits); `actor` names who acts without being
    logged in (an account, or an address, following a mailed link)."""
    user = actor or (current_user if current_user and current_user.is_authenticated else None)
    name = user if isinstance(user, str) else user.email if user else "command line"
    db.session.add(AuditEntry(
        user_id=getattr(user, "id", None), actor=name[:254],
        organisation_id=organisation_id, action=action, target=target[:300], detail=detail,
    ))


def log(action: str, target: str = "", organisation_id: int | None = None, detail: str = "", actor=None) -> None:
    """Record an action whose only write is its audit entry (an export opened, a key written) and commit."""
    record(action, target, organisation_id, detail, actor=actor)
    db.session.commit()

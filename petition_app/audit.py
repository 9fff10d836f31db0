"""The admin audit log: who did what, when. Callers pass no signer personal data."""

from __future__ import annotations

from flask_login import current_user

from petition_app.extensions import db
from petition_app.models import AuditEntry


def record(action: str, target: str = "", organisation_id: int | None = None, detail: str = "",
           actor: str | None = None) -> None:
    """Add an audit entry to the current transaction (the caller commits); `actor` names an automatic one."""
    user = current_user if actor is None and current_user and current_user.is_authenticated else None
    db.session.add(AuditEntry(
        user_id=user.id if user else None, actor=actor or (user.email if user else "command line"),
        organisation_id=organisation_id, action=action, target=target[:300], detail=detail,
    ))

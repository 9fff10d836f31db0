"""The admin audit log: who did what, when. Callers pass no signer personal data."""

from __future__ import annotations

from flask_login import current_user

from petition_app.extensions import db
from petition_app.models import AuditEntry


def record(action: str, target: str = "", organisation_id: int | None = None, detail: str = "") -> None:
    """Add an audit entry to the current transaction (the caller commits)."""
    user = current_user if current_user and current_user.is_authenticated else None
    db.session.add(AuditEntry(
        user_id=user.id if user else None, actor=user.email if user else "command line",
        organisation_id=organisation_id, action=action, target=target[:300], detail=detail,
    ))

"""GET /healthz: is this server fit to serve? Small JSON for a monitor polling every few seconds."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import func, select, text

bp = Blueprint("health", __name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def status() -> tuple[dict, list[str]]:
    """The figures and the list of problems (empty when healthy). Nothing about any signer."""
    from petition_app.extensions import db
    from petition_app.models import OutboxMessage
    from petition_app.models.outbox import OutboxStatus

    report: dict = {"database": "ok"}
    problems: list[str] = []
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        db.session.rollback()
        return {"database": f"unreachable ({type(error).__name__})"}, ["database unreachable"]

    try:
        applied = {row[0] for row in db.session.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception:
        db.session.rollback()
        applied = set()
    heads = migration_heads()
    report["migrations"] = "current" if applied == heads else "pending"
    if applied != heads:
        problems.append("migrations not applied (run: flask db upgrade)")

    now = datetime.now(timezone.utc)
    try:
        due, oldest = db.session.execute(
            select(func.count(OutboxMessage.id), func.min(OutboxMessage.next_attempt_at))
            .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        ).one()
    except Exception as error:  # no outbox table yet: the migrations problem above says why
        db.session.rollback()
        report["outbox"] = f"unreadable ({type(error).__name__})"
        problems.append("outbox unreadable")
    else:
        age = int((now - oldest).total_seconds()) if oldest else 0
        report["outbox"] = {"due": due, "oldest_due_seconds": age}
        if age > current_app.config["HEALTH_MAX_OUTBOX_AGE_SECONDS"]:
            problems.append(f"outbox: a message has been due for {age} s (is the worker running?)")

    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from petition_app.cache import redis_client

        try:
            redis_client(redis_url).ping()
            report["redis"] = "ok"
        except Exception as error:
            report["redis"] = f"unreachable ({type(error).__name__})"
            problems.append("redis unreachable")
    db.session.rollback()
    return report, problems


@bp.get("/healthz")
def healthz():
    report, problems = status()
    report["status"] = "ok" if not problems else "failing"
    if problems:
        report["problems"] = problems
    response = jsonify(report)
    response.status_code = 200 if not problems else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

"""petition_app: campaign pages, signing and delivery for small teams, built for signer safety."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from petition_app import catalogues
from petition_app.config import AppConfig, Config, secure_instance
from petition_app.i18n import configured_languages

ROOT = Path(__file__).resolve().parent.parent


class _Flask(Flask):
    config_class = AppConfig


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; tests pass a mapping that overrides the environment's settings."""
    app = _Flask(
        __name__,
        instance_path=str((config or {}).get("INSTANCE_PATH") or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    env = dict(os.environ)
    if config:
        env.update({k: str(v) for k, v in config.items() if isinstance(v, str) and k.isupper()})
    app.config.from_object(Config(app.instance_path, env))
    if config:
        app.config.update(config)
        if isinstance(app.config["LANGUAGES"], str):  # given as in the environment: "en,uk"
            app.config["LANGUAGES"] = configured_languages(app.config["LANGUAGES"])
    if not app.config["RATELIMIT_STORAGE_OPTIONS"].get("key_secret"):  # a generated secret: read when first needed
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**app.config["RATELIMIT_STORAGE_OPTIONS"],
                                                   "key_secret": lambda: app.config["SECRET_KEY"]}
    secure_instance(app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"])
    catalogues.ensure_compiled(app)

    from petition_app.errors import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter
    _init_extensions(app)
    _init_blueprints(app)

    from petition_app import (
        assets,
        backup,
        checks,
        cli,
        counts,
        errors,
        health,
        images,
        mailings,  # noqa: F401  (registers how the worker renders an update mail)
        pagecache,
        security,
        templating,
        timezones,
    )
    from petition_app.campaigns import lifecycle

    security.init_app(app)
    pagecache.init_app(app)
    counts.init_app(app)
    assets.init_app(app)
    lifecycle.init_app(app)
    checks.init_app(app)
    health.init_app(app)
    backup.init_app(app)
    images.init_app(app)
    templating.init_app(app)
    timezones.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    logging.getLogger("werkzeug").addFilter(security.AddressScrubber())
    from petition_app import fastpath
    from petition_app.cache import MemoryCache

    cache = app.extensions["petition_cache"]
    fastpath.init_app(app, cache.stamp_path if isinstance(cache, MemoryCache) else None)
    return app


def _init_extensions(app: Flask) -> None:
    from petition_app import db_setup, i18n
    from petition_app.cache import make_cache
    from petition_app.extensions import babel, csrf, db, htmx, limiter, login_manager, mail, migrate

    db.init_app(app)
    db_setup.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    cache = app.extensions["petition_cache"] = make_cache(
        app.config.get("REDIS_URL"), app.config["REDIS_KEY_PREFIX"], str(Path(app.instance_path) / "cache-stamp"))
    app.before_request_funcs.setdefault(None, []).insert(0, cache.begin_request)  # before anything reads it
    app.teardown_request(lambda _error: cache.end_request())
    app.extensions["time_floors"] = {}  # timefloor.py: per process, each worker times its own work
    import petition_app.models  # noqa: F401  (register the tables)


def _init_blueprints(app: Flask) -> None:
    from petition_app.admin import bp as admin_bp
    from petition_app.api.views import bp as api_bp
    from petition_app.campaigns.views import bp as campaigns_bp
    from petition_app.embed.views import bp as embed_bp
    from petition_app.pages.views import bp as pages_bp
    from petition_app.signing.views import bp as signing_bp
    from petition_app.starter.views import bp as starter_bp

    app.register_blueprint(campaigns_bp)
    app.register_blueprint(signing_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(starter_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(api_bp)

"""Configuration: safe defaults, overridden from the environment."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import flask

from petition_app import ratelimit
from petition_app.i18n import SOURCE_LANGUAGE, configured_languages


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def load_or_create_secret(instance_path: str, name: str = "secret_key") -> str:
    """Read a secret from the instance folder, creating it (mode 0600) on first use."""
    path = Path(instance_path) / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker is making it: wait for its content
        for _ in range(100):
            if existing := path.read_text().strip():
                return existing
            time.sleep(0.01)
        raise
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


class AppConfig(flask.Config):
    """Flask's config; a SECRET_KEY generated into instance/ is created when first read, not at start-up, so a
    command that stops early (no database) leaves no new secret behind."""

    def _secret(self):
        value = dict.get(self, "SECRET_KEY")
        if not value and dict.get(self, "GENERATED_SECRET_DIR"):
            value = load_or_create_secret(dict.get(self, "GENERATED_SECRET_DIR"))
            self["SECRET_KEY"] = value
        return value

    def __getitem__(self, key):
        return self._secret() if key == "SECRET_KEY" else super().__getitem__(key)

    def get(self, key, default=None):
        if key == "SECRET_KEY":
            return self._secret() or default
        return super().get(key, default)
def secure_instance(instance_path: str, database_uri: str) -> None:
    """instance/ readable by the owner only (0700); the SQLite database and its -wal/-shm files 0600."""
    folder = Path(instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _chmod(folder, 0o700)
    if not database_uri.startswith("sqlite:///") or database_uri in ("sqlite:///", "sqlite:///:memory:"):
        return
    database = Path(database_uri.removeprefix("sqlite:///").split("?", 1)[0])
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}-journal")):
        if path.exists():
            _chmod(path, 0o600)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:  # another account's file: reported by `flask check`, not fatal here
        pass


class Config:
    """Every setting the application reads, with its default."""

    def __init__(self, instance_path: str, env: dict[str, str] | None = None):
        env = os.environ if env is None else env
        self.SECRET_KEY = env.get("SECRET_KEY") or None  # None: generated into instance/ when first needed
        self.GENERATED_SECRET_DIR = None if self.SECRET_KEY else instance_path
        # Several servers on one database must share SECRET_KEY and SIGNER_HASH_KEY: `flask check` warns.
        self.SECRET_KEY_FROM_INSTANCE = not env.get("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or (
            "sqlite:///" + str(Path(instance_path) / "petition_app.sqlite3")
        )
        self.PUBLIC_URL = (env.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
        self.SITE_NAME = env.get("SITE_NAME") or "Petitions"
        self.REDIS_URL = env.get("REDIS_URL") or None
        # Every key the app writes to Redis starts with this, so one Redis can serve several sites (or tests).
        self.REDIS_KEY_PREFIX = env.get("REDIS_KEY_PREFIX") or "petition_app:"

        # Rate limits (Flask-Limiter); storage is memory unless Redis is configured.
        self.RATELIMIT_ENABLED = _bool(env.get("RATELIMIT_ENABLED"), True)
        # Counter names in the store are HMACs under a key derived from SECRET_KEY (see ratelimit.py).
        self.RATELIMIT_STORAGE_URI = ratelimit.storage_uri(self.REDIS_URL or "memory://")
        self.RATELIMIT_STORAGE_OPTIONS = {"key_secret": self.SECRET_KEY}
        if self.REDIS_URL:
            self.RATELIMIT_STORAGE_OPTIONS["key_prefix"] = self.REDIS_KEY_PREFIX + "rl"
        self.RATELIMIT_HEADERS_ENABLED = False
        self.RATELIMIT_SIGN = env.get("RATELIMIT_SIGN") or "30 per minute;300 per hour"
        self.RATELIMIT_LOGIN = env.get("RATELIMIT_LOGIN") or "10 per minute;50 per hour"
        # "Forgot your password?" mails, per client and per address.
        self.RATELIMIT_PASSWORD_RESET = env.get("RATELIMIT_PASSWORD_RESET") or "3 per hour;10 per day"
        # Campaign proposals ("Start your campaign") and dashboard-link requests, per client and per email address.
        self.RATELIMIT_START = env.get("RATELIMIT_START") or "5 per hour"
        # The public read API (/api/v1), per client; its answers are cacheable, so a well-behaved reader needs few.
        self.RATELIMIT_API = env.get("RATELIMIT_API") or "120 per minute;2000 per hour"
        self.API_CACHE_SECONDS = _int(env.get("API_CACHE_SECONDS"), 60)

        # Live regions.
        self.COUNTER_POLL_SECONDS = _int(env.get("COUNTER_POLL_SECONDS"), 10)
        self.COUNTER_CACHE_SECONDS = _int(env.get("COUNTER_CACHE_SECONDS"), 3)
        # Rows a campaign's count is spread over, so concurrent signers do not queue on one row (PostgreSQL).
        self.COUNTER_SHARDS = _int(env.get("COUNTER_SHARDS"), 16)
        # Public pages are the same bytes for every visitor: rendered once per page and language, kept this long
        # (dropped at once when content changes) and allowed in shared caches for as long.
        self.PAGE_CACHE_SECONDS = _int(env.get("PAGE_CACHE_SECONDS"), 10)

        # Signer data.
        self.SIGNATURE_TIME_PRECISION = env.get("SIGNATURE_TIME_PRECISION") or "hour"
        self.SIGNER_HASH_KEY = env.get("SIGNER_HASH_KEY") or None  # derived from SECRET_KEY when unset
        self.TRUSTED_PROXIES = _int(env.get("TRUSTED_PROXIES"), 0)
        self.ONION_URL = env.get("ONION_URL") or None
        # Admin password hashing (argon2id); unset keeps argon2-cffi's RFC 9106 defaults (3 passes, 64 MiB).
        self.PASSWORD_HASH_TIME_COST = _int(env.get("PASSWORD_HASH_TIME_COST"), 0) or None
        self.PASSWORD_HASH_MEMORY_KIB = _int(env.get("PASSWORD_HASH_MEMORY_KIB"), 0) or None

        # Forms: campaign pages stay open for hours; tokens are bound to the session instead of a clock.
        self.WTF_CSRF_TIME_LIMIT = None
        # Pages send "Referrer-Policy: no-referrer", so browsers post without a Referer: Flask-WTF's https-only
        # Referer check would refuse every form. The token and SameSite cookies remain the protection.
        self.WTF_CSRF_SSL_STRICT = False
        self.MAX_CONTENT_LENGTH = _int(env.get("MAX_CONTENT_LENGTH"), 1024 * 1024)

        # Mail: with no MAIL_SERVER, mails are written as .eml files under instance/mail/.
        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = _int(env.get("MAIL_PORT"), 25)
        self.MAIL_USE_TLS = _bool(env.get("MAIL_USE_TLS"), False)
        self.MAIL_USE_SSL = _bool(env.get("MAIL_USE_SSL"), False)
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER") or "Petitions <no-reply@localhost>"
        self.MAIL_TIMEOUT = _int(env.get("MAIL_TIMEOUT"), 30)
        self.MAIL_SUPPRESS_SEND = False
        self.MAIL_DIR = env.get("MAIL_DIR") or str(Path(instance_path) / "mail")
        # The outbox's personal data is encrypted with a key derived from this (from SECRET_KEY when unset).
        self.OUTBOX_KEY = env.get("OUTBOX_KEY") or None
        self.MAIL_MAX_ATTEMPTS = _int(env.get("MAIL_MAX_ATTEMPTS"), 8)
        self.MAIL_RETRY_BASE_SECONDS = _int(env.get("MAIL_RETRY_BASE_SECONDS"), 60)
        self.MAIL_RETRY_MAX_SECONDS = _int(env.get("MAIL_RETRY_MAX_SECONDS"), 6 * 3600)
        self.MAIL_BATCH_SIZE = _int(env.get("MAIL_BATCH_SIZE"), 50)
        # Update mailings (mailings.py) queue at most this many messages a minute.
        self.MAIL_RATE_PER_MINUTE = _int(env.get("MAIL_RATE_PER_MINUTE"), 600)
        self.WORKER_POLL_SECONDS = _int(env.get("WORKER_POLL_SECONDS"), 5)
        # /healthz answers 503 when the oldest message due in the outbox has waited longer (a stopped worker).
        self.HEALTH_MAX_OUTBOX_AGE_SECONDS = _int(env.get("HEALTH_MAX_OUTBOX_AGE_SECONDS"), 900)

        # Webhooks (see petition_app/webhooks.py). WEBHOOK_ALLOW_LOOPBACK (development only) lets endpoints be
        # http:// on a loopback host and resolve to loopback addresses; private networks are refused always.
        self.WEBHOOK_ALLOW_LOOPBACK = _bool(env.get("WEBHOOK_ALLOW_LOOPBACK"), False)
        self.WEBHOOK_TIMEOUT = _int(env.get("WEBHOOK_TIMEOUT"), 10)
        self.WEBHOOK_MAX_ATTEMPTS = _int(env.get("WEBHOOK_MAX_ATTEMPTS"), 18)
        self.WEBHOOK_RETRY_BASE_SECONDS = _int(env.get("WEBHOOK_RETRY_BASE_SECONDS"), 60)
        self.WEBHOOK_RETRY_MAX_SECONDS = _int(env.get("WEBHOOK_RETRY_MAX_SECONDS"), 6 * 3600)
        self.WEBHOOK_DISABLE_AFTER_HOURS = _int(env.get("WEBHOOK_DISABLE_AFTER_HOURS"), 72)
        self.WEBHOOK_DISABLE_AFTER_FAILURES = _int(env.get("WEBHOOK_DISABLE_AFTER_FAILURES"), 100)
        self.WEBHOOK_BATCH_SIZE = _int(env.get("WEBHOOK_BATCH_SIZE"), 20)

        # Links in mails and retention.
        self.CONFIRM_TOKEN_DAYS = _int(env.get("CONFIRM_TOKEN_DAYS"), 30)
        self.LINK_TOKEN_DAYS = _int(env.get("LINK_TOKEN_DAYS"), 365)
        self.UNCONFIRMED_RETENTION_DAYS = _int(env.get("UNCONFIRMED_RETENTION_DAYS"), 30)
        self.CLOSED_RETENTION_MONTHS = _int(env.get("CLOSED_RETENTION_MONTHS"), 24)
        # Campaigns past their deadline are closed by the worker, `flask purge` and, at most this often, page views.
        self.DEADLINE_CHECK_SECONDS = _int(env.get("DEADLINE_CHECK_SECONDS"), 60)
        self.DISCREET_SENDER_NAME = env.get("DISCREET_SENDER_NAME") or "Notifications"

        # "Start your campaign": supporters propose campaigns, moderators of the hosting organisation publish them.
        self.STARTER_HOST_ORG = env.get("STARTER_HOST_ORG") or None  # an organisation slug; unset: the first one
        self.START_CALL_TO_ACTION = env.get("START_CALL_TO_ACTION") or None  # unset: the translated default text
        self.STARTER_MAX_BODY = _int(env.get("STARTER_MAX_BODY"), 20_000)
        self.STARTER_MAX_LINKS = _int(env.get("STARTER_MAX_LINKS"), 5)
        self.STARTER_LINK_DAYS = _int(env.get("STARTER_LINK_DAYS"), 365)

        # Uploaded images (campaign pictures, organisation logos) and share cards: re-encoded copies only.
        self.MEDIA_DIR = env.get("MEDIA_DIR") or str(Path(instance_path) / "media")
        self.IMAGE_MAX_BYTES = _int(env.get("IMAGE_MAX_BYTES"), 10 * 1024 * 1024)
        self.IMAGE_MAX_PIXELS = _int(env.get("IMAGE_MAX_PIXELS"), 50_000_000)
        # A campaign's share card is redrawn at most this often while its count moves.
        self.SHARE_CARD_SECONDS = _int(env.get("SHARE_CARD_SECONDS"), 300)

        # The site's time zone (an IANA name such as Europe/Moscow): deadlines are entered and shown in it.
        self.TIMEZONE = (env.get("TIMEZONE") or "UTC").strip()

        # UI languages, in the order the switcher shows them: LANGUAGES=en,ru,uk (unset: every shipped catalogue).
        self.LANGUAGES = configured_languages(env.get("LANGUAGES"))
        default = env.get("DEFAULT_LANGUAGE") or SOURCE_LANGUAGE
        if default not in self.LANGUAGES:
            default = self.LANGUAGES[0]
        self.BABEL_DEFAULT_LOCALE = default
        self.BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PUBLIC_URL.startswith("https://")
        self.PREFERRED_URL_SCHEME = "https" if self.SESSION_COOKIE_SECURE else "http"
        # hide_parameters: database errors in logs never carry the values (names, addresses) of a statement.
        # No pool_pre_ping: db_setup checks a PostgreSQL connection at checkout without a round trip per request.
        # A pool as large as a worker's threads (GUNICORN_THREADS, 8): with SQLAlchemy's default of 5, the 6th to 8th
        # concurrent requests each opened a new server connection and closed it afterwards, under load every time.
        # The same for a SQLite file, whose new connections each open the file and set its pragmas; an in-memory
        # SQLite database keeps one connection and takes no pool size.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True,
                                          "pool_size": _int(env.get("DATABASE_POOL_SIZE"), 10), "max_overflow": 10}
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            self.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}, "hide_parameters": True}
            if not _in_memory(self.SQLALCHEMY_DATABASE_URI):
                self.SQLALCHEMY_ENGINE_OPTIONS.update(pool_size=_int(env.get("DATABASE_POOL_SIZE"), 10),
                                                      max_overflow=10)


def _in_memory(url: str) -> bool:
    """Whether a SQLite URL names an in-memory database (no file)."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return not database or database == ":memory:" or database.startswith("file::memory:")

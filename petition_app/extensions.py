"""Extension objects, bound to the application in create_app."""

from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from petition_app.privacy import rate_limit_key


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
htmx = HTMX()
babel = Babel()
mail = Mail()
login_manager = LoginManager()
login_manager.session_protection = None  # "strong" would hash the client address into the cookie
limiter = Limiter(key_func=rate_limit_key, default_limits=[], strategy="fixed-window")


def run(statement, parameters=None):
    """Run a Core statement on the session's connection, inside the session's transaction.

    For the statements of every signature and confirmation: Session.execute adds ORM bookkeeping (events, autoflush,
    result adaptation) that a Core statement does not need, about a tenth of a millisecond of CPU each.
    """
    return db.session.connection().execute(statement, parameters)


def run_alone(statement, parameters=None) -> list:
    """Run one statement as a transaction of its own and return its rows (PostgreSQL's sign POST).

    On a pooled connection in autocommit, beside the session's: one round trip, where the session's transaction
    adds a BEGIN and a COMMIT. Only for a statement that is a whole unit of work by itself; the connection goes
    back to the pool (and out of autocommit) before this returns.
    """
    with db.engine.connect() as connection:
        return connection.execution_options(isolation_level="AUTOCOMMIT").execute(statement, parameters).all()

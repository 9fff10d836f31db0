"""Gunicorn settings used by `make run` and recommended for production."""

import os

from gunicorn.glogging import Logger

from petition_app.security import scrub_log_text

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
# The access log never records who asked: no client address, no referrer, no user agent.
accesslog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


class ScrubbedLogger(Logger):
    """Access-log atoms without client addresses or the tokens of mailed links (confirm, withdraw, dashboard)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("h", "f", "a"):
            atoms[key] = "-"
        for key in ("r", "U", "q"):
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub_log_text(atoms[key])
        return atoms


logger_class = ScrubbedLogger

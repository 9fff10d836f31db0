"""Gunicorn settings used by `make run` and recommended for production."""

import os

from gunicorn.glogging import Logger

from petition_app.security import AddressScrubber, scrub_log_text

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
# The access log never records who asked: no client address, no referrer, no user agent.
accesslog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Files the server creates (the SQLite database and its -wal/-shm, anything under instance/) are the owner's only:
# set for the whole process (gunicorn's own `umask` setting covers only its sockets and temporary files).
os.umask(0o077)
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): a second instance on the host
# would take it over and stopping either removes it. Off unless an instance is given its own path.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


class ScrubbedLogger(Logger):
    """Logs without client addresses or the tokens of mailed links (confirm, withdraw, dashboard)."""

    def access(self, resp, req, environ, request_time):
        # The format above needs four atoms, and gunicorn builds them all (every request and response header and
        # every environ entry) for every request: the line is written directly for that format, the same bytes
        # (tests/test_security.py). Any other format goes the usual way, through atoms() below.
        if self.cfg.access_log_format != access_log_format or not self.access_log_enabled:
            return super().access(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        line = scrub_log_text(f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}")
        sent = getattr(resp, "sent", None)
        millis = request_time.seconds * 1000 + int(request_time.microseconds / 1000)
        self.access_log.info('"%s" %s %s %sms', line.replace('"', '\\"'), status,
                             "-" if sent is None else str(sent), millis)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("h", "f", "a"):
            atoms[key] = "-"
        for key in ("r", "U", "q"):
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub_log_text(atoms[key])
        return atoms

    def setup(self, cfg):
        super().setup(cfg)
        # The error log too: gunicorn writes "Invalid request from ip=..." for malformed requests.
        self.error_log.addFilter(AddressScrubber())


logger_class = ScrubbedLogger


def when_ready(server):
    """Check the configuration once, as the server starts, and log every finding loudly."""
    try:
        from petition_app.checks import log_startup_findings

        log_startup_findings(server.log, workers=server.cfg.workers)
    except Exception:  # the workers report a broken app themselves; the check must not stop the server
        server.log.exception("configuration check failed")

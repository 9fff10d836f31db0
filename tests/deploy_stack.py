"""Real processes for deployment tests: gunicorn (gunicorn.conf.py), the mail worker, nginx with deploy/'s site."""

from __future__ import annotations

import getpass
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_process(command: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def start_gunicorn(env: dict, port: int, log_path: Path, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", *extra, "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port, process)
    return process


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",  # noqa: S607
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


def render_nginx(folder: Path, https_port: int, onion_port: int, app_port: int) -> Path:
    """deploy/'s site and snippet, changed only where a test must: loopback ports, paths, the certificate."""
    key, cert = self_signed_certificate(folder)
    snippet = (ROOT / "deploy/nginx/petition_app-proxy.conf").read_text()
    snippet = snippet.replace("/var/log/nginx/petition_app.access.log", str(folder / "access.log"))
    snippet = snippet.replace("/srv/petition_app", str(ROOT))
    (folder / "petition_app-proxy.conf").write_text(snippet)

    site = (ROOT / "deploy/nginx/petition_app.conf").read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    site = site.replace("/var/cache/nginx/petition_app", str(folder / "cache"))
    site = site.replace("/var/log/nginx/petition_app.access.log", str(folder / "access.log"))
    site = site.replace("/etc/nginx/snippets/petition_app-proxy.conf", str(folder / "petition_app-proxy.conf"))
    site = site.replace("/etc/letsencrypt/live/petitions.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/petitions.example.org/privkey.pem", str(key))
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};").replace("listen [::]:80;\n", "")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("listen [::]:443 ssl http2;\n", "")
    site = site.replace("listen 127.0.0.1:8081;", f"listen 127.0.0.1:{onion_port};")
    assert str(app_port) in site and str(https_port) in site and str(onion_port) in site
    (folder / "site.conf").write_text(site)

    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    conf = folder / "nginx.conf"
    # Started as root (CI), nginx would run its workers as nobody, who cannot enter the test's private folders.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
worker_processes 1;
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {temp['client_body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {folder / 'site.conf'};
}}
""")
    return conf


def start_nginx(folder: Path, conf: Path, port: int) -> subprocess.Popen:
    with (folder / "nginx.log").open("ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [NGINX, "-p", str(folder), "-c", str(conf), "-g", f"daemon off; pid {folder / 'nginx.pid'};"],
            stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port, process)
    return process


class Client:
    """A browser-like HTTP(S) client bound to one loopback source address, with its own cookies."""

    def __init__(self, port: int, source: str = "127.0.0.1", tls: bool = True):
        self.port, self.source, self.tls = port, source, tls
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
                timeout: float = 10):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection("localhost", self.port, timeout=timeout, context=context,
                                                     source_address=(self.source, 0))
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                                    source_address=(self.source, 0))
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response, content

    def form_token(self, path: str) -> str:
        response, content = self.request("GET", path)
        assert response.status == 200, content[:500]
        match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', content)
        assert match, "no form token"
        return match.group(1).decode()


def app_env(database_url: str, public_url: str, mail_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATELIMIT", "REDIS", "GUNICORN"))}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "deploy-test-" + "k" * 40, "PUBLIC_URL": public_url,
                "MAIL_DIR": str(mail_dir), "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def prepare_database(database_url: str, slug: str) -> None:
    """Migrate a fresh database the way an operator does, and open one campaign."""
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True,  # noqa: S603
                   env=app_env(database_url, "http://127.0.0.1", ROOT / "instance" / "mail"), capture_output=True)
    from petition_app import create_app
    from petition_app.extensions import db
    from petition_app.models import Campaign, CampaignStatus, Organisation

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        db.session.add(Campaign(slug=slug, title="Deploy test campaign", goal=100, status=CampaignStatus.OPEN,
                                lead="A lead.", organisation=Organisation(slug="deploy-org", name="Deploy Org")))
        db.session.commit()
        db.engine.dispose()

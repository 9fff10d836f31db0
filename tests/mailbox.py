"""A real SMTP server for tests (aiosmtpd), and a server that accepts connections but never answers."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.envelopes = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.lock:
            self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


class SMTPServer:
    def __init__(self, port: int | None = None, smtputf8: bool = False, box: Mailbox | None = None) -> None:
        self.port = port or free_port()
        self.box = box or Mailbox()
        self.smtputf8 = smtputf8  # offer SMTPUTF8 (international addresses), as Postfix and Exim do
        self.controller: Controller | None = None

    def start(self) -> SMTPServer:
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class HangingServer:
    """Accepts TCP connections and never says a word: an SMTP server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link(text: str, kind: str) -> str:
    match = re.search(rf"https?://\S+/s/{kind}/[A-Za-z0-9_-]+", text)
    assert match, f"no {kind} link in mail"
    return match.group(0)

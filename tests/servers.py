"""Real servers on loopback for the notification tests: an HTTP receiver and an SMTP server.

Both listen on 127.0.0.1 and record what arrives, exactly as a receiver of okra's
webhooks or mail would get it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = [
    "Answer",
    "JsonEndpoint",
    "Mailbox",
    "Received",
    "Receiver",
    "json_endpoint",
    "make_certificate",
    "receiver",
    "smtp_server",
]


@attrs.frozen
class Received:
    """One HTTP request as the receiver got it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server in a thread that records every request it accepts and answers ``status``."""

    def __init__(self, status: int = 200, accept: int | None = None) -> None:
        self.status = status
        self.accept = accept
        self.requests: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if outer.accept is not None and len(outer.requests) >= outer.accept:
                    # Going down: drop the connection without an answer.
                    self.close_connection = True
                    return
                outer.requests.append(
                    Received(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                self.send_response(outer.status)
                if 300 <= outer.status < 400:
                    self.send_header("Location", "/login")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                outer.requests.append(
                    Received("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, b"")
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def receiver(status: int = 200, accept: int | None = None) -> Iterator[Receiver]:
    """A :class:`Receiver`; with ``accept``, it drops every request after that many."""
    server = Receiver(status, accept)
    try:
        yield server
    finally:
        server.stop()


@attrs.define
class Answer:
    """What the JSON endpoint answers on one path: a status, a body, after a wait."""

    body: bytes = b"{}"
    status: int = 200
    wait: threading.Event | None = None  # answer only once this is set (a hung server)


class JsonEndpoint:
    """An HTTP server on 127.0.0.1 answering GETs from ``answers`` (by path), as a metrics API.

    It records every request, headers included (to see a bearer token arrive).
    """

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.requests: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(
                    Received("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, b"")
                )
                answer = outer.answers.get(self.path.split("?")[0], Answer(b"", 404))
                if answer.wait is not None:
                    answer.wait.wait(30)
                try:
                    self.send_response(answer.status)
                    if 300 <= answer.status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def stop(self) -> None:
        for answer in self.answers.values():
            if answer.wait is not None:
                answer.wait.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def json_endpoint() -> Iterator[JsonEndpoint]:
    """A :class:`JsonEndpoint`, stopped afterwards."""
    server = JsonEndpoint()
    try:
        yield server
    finally:
        server.stop()


@attrs.frozen
class Mail:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    login: str | None
    tls: bool


class Mailbox:
    """What the SMTP server received, and whom it let log in."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.mails: list[Mail] = []
        self.users = users or {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.mails.append(
            Mail(
                envelope.mail_from,
                tuple(envelope.rcpt_tos),
                message,
                login,
                session.ssl is not None,
            )
        )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(
    mailbox: Mailbox, *, tls_context: ssl.SSLContext | None = None
) -> Iterator[Controller]:
    """An aiosmtpd server on loopback; with ``tls_context`` it offers STARTTLS and requires it."""
    options: dict[str, Any] = {}
    if tls_context is not None:
        options = {
            "tls_context": tls_context,
            "require_starttls": True,
            "authenticator": mailbox.authenticate,
            "auth_require_tls": True,
        }
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key: ``(cert.pem, key.pem)``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "okra test server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path

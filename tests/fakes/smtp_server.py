"""A minimal SMTP server on 127.0.0.1 (socketserver), enough for smtplib: EHLO/HELO, STARTTLS
(when given a server TLS context; AUTH is then refused before it), AUTH PLAIN, MAIL, RCPT,
DATA, RSET, NOOP, QUIT. Records each message; `reply_to_data` makes it refuse (e.g. "451 try
later")."""

from __future__ import annotations

import base64
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.fakes import POLL_SECONDS


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    login: tuple[str, str] | None = None
    tls: bool = False

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _State:
    mail_from: str = ""
    rcpt_to: list[str] = field(default_factory=list)
    login: tuple[str, str] | None = None
    tls: bool = False


class SmtpServer:
    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.messages: list[Received] = []
        self.reply_to_data: str | None = None
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def reply(self, line: str) -> None:
                self.wfile.write(line.encode("ascii") + b"\r\n")
                self.wfile.flush()

            def finish(self) -> None:
                super().finish()
                if isinstance(self.connection, ssl.SSLSocket):  # ours after STARTTLS
                    self.connection.close()

            def handle(self) -> None:
                state = _State()
                self.reply("220 127.0.0.1 fake ESMTP")
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb, _, arg = line.partition(" ")
                    verb = verb.upper()
                    if verb == "EHLO":
                        self.reply("250-127.0.0.1")
                        self.reply("250-8BITMIME")
                        self.reply("250-SMTPUTF8")
                        if tls_context is not None and not state.tls:
                            self.reply("250-STARTTLS")
                        self.reply("250 AUTH PLAIN")
                    elif verb == "STARTTLS" and tls_context is not None and not state.tls:
                        self.reply("220 ready to start TLS")
                        self.connection = tls_context.wrap_socket(self.connection, server_side=True)
                        self.rfile = self.connection.makefile("rb")
                        self.wfile = self.connection.makefile("wb")
                        state = _State(tls=True)
                    elif verb == "HELO":
                        self.reply("250 127.0.0.1")
                    elif verb == "AUTH" and tls_context is not None and not state.tls:
                        self.reply("530 must issue STARTTLS first")
                    elif verb == "AUTH":
                        mech, _, token = arg.partition(" ")
                        if mech.upper() != "PLAIN" or not token:
                            self.reply("504 only AUTH PLAIN with an initial response")
                            continue
                        _, user, password = base64.b64decode(token).decode().split("\0")
                        state.login = (user, password)
                        self.reply("235 ok")
                    elif verb == "MAIL":
                        state.mail_from = arg.split(":", 1)[1].split()[0].strip("<>")
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        state.rcpt_to.append(arg.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b".\n", b""):
                                break
                            lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        if owner.reply_to_data:
                            self.reply(owner.reply_to_data)
                        else:
                            owner.messages.append(
                                Received(
                                    state.mail_from,
                                    state.rcpt_to,
                                    b"".join(lines),
                                    state.login,
                                    state.tls,
                                )
                            )
                            self.reply("250 queued")
                        state = _State(login=state.login, tls=state.tls)
                    elif verb == "RSET":
                        state = _State(login=state.login, tls=state.tls)
                        self.reply("250 ok")
                    elif verb == "NOOP":
                        self.reply("250 ok")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(POLL_SECONDS,), daemon=True
        )

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)

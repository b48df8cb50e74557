"""A local SMTP relay (aiosmtpd) that records what it is sent and answers like SES, failures included.

Started on a port picked here (aiosmtpd's `Controller(port=0)` fails: it probes the port it was given).
Answers DATA with "250 Ok <id>" as Amazon SES does, so the id the channel keeps is the one SES's
bounce and delivery notifications name.
"""

from __future__ import annotations

import itertools
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "smtp-user"
PASSWORD = "smtp-password"
#: RCPT to this address is refused as an unknown mailbox (550 5.1.1).
NO_SUCH_MAILBOX = "nobody@unknown.example"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class FakeSmtp:
    """The handler: records envelopes, refuses what it was told to, authenticates one user."""

    received: list[Received] = field(default_factory=list)
    #: Replies to give to the next DATA commands instead of accepting.
    next_replies: list[str] = field(default_factory=list)
    attempts: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, reply: str) -> None:
        self.next_replies.append(reply)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address == NO_SUCH_MAILBOX:
            return "550 5.1.1 Recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.next_replies:
            return self.next_replies.pop(0)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return f"250 Ok 0100019a-fake-{next(self._ids):06d}-000000"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


class LocalSmtp:
    """FakeSmtp on 127.0.0.1 at a free port, with AUTH over plain text (loopback only)."""

    def __init__(self) -> None:
        self.fake = FakeSmtp()
        self.port = free_port()
        self.controller = Controller(
            self.fake,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_authenticate,
            auth_require_tls=False,
        )

    def __enter__(self) -> LocalSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

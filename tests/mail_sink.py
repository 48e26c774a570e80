"""A real SMTP server on loopback that keeps what it receives, for tests of outbound mail.

    with MailSink() as sink:
        ...send to 127.0.0.1:sink.port...
    sink.messages  # [Received(mail_from, rcpt_tos, data), ...]

`refuse` makes it answer RCPT for chosen addresses with a 550; `refuse_data` answers the final dot of
their messages with a 552; `hang_up_on` closes the connection (once per address) when RCPT names one of
them; `pipelining` makes it advertise RFC 2920
PIPELINING (aiosmtpd reads commands in order, so it copes); `on_message` runs inside DATA after the
message is stored and before the 250 goes out, which is where a test can kill the sender.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.sink.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list
    ) -> str:
        if address.lower() in self.sink.refuse:
            return "550 5.1.1 No such mailbox"
        if address.lower() in self.sink.hang_up_on:
            self.sink.hang_up_on.discard(address.lower())
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if any(address.lower() in self.sink.refuse_data for address in envelope.rcpt_tos):
            return "552 5.3.4 Message too big for this mailbox"
        received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content))
        with self.sink.lock:
            self.sink.messages.append(received)
            count = len(self.sink.messages)
        if self.sink.on_message is not None:
            self.sink.on_message(count)
        return "250 2.0.0 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailSink:
    """An aiosmtpd server in a thread on 127.0.0.1 and a free port."""

    def __init__(
        self,
        *,
        refuse: set[str] = frozenset(),
        refuse_data: set[str] = frozenset(),
        hang_up_on: set[str] = frozenset(),
        pipelining: bool = False,
        on_message: Callable[[int], None] | None = None,
    ) -> None:
        self.refuse = {address.lower() for address in refuse}
        self.refuse_data = {address.lower() for address in refuse_data}
        self.hang_up_on = {address.lower() for address in hang_up_on}
        self.pipelining = pipelining
        self.on_message = on_message
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.controller.stop()

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def by_recipient(self) -> dict[str, list[Received]]:
        """The messages received for each recipient address."""
        received: dict[str, list[Received]] = {}
        with self.lock:
            for message in self.messages:
                for address in message.rcpt_tos:
                    received.setdefault(address.lower(), []).append(message)
        return received

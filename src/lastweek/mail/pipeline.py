"""Request mail over one or several SMTP connections, all driven from the calling thread, one round trip
per message.

smtplib waits for the server twice per message: once for the envelope (MAIL, RCPT, DATA, pipelined
when the server offers RFC 2920 PIPELINING) and once for the reply to the final dot. Here the final dot
of one message and the envelope of the next go out in one write, so a connection waits once per
message; and a selector serves every connection from the one thread that also records hand-overs, so
the moment between recording a hand-over and writing its final dot stays a few microseconds whatever
the number of connections (transport.py explains why that moment is the one that matters).

Each connection is a small state machine fed by the server's replies, which arrive in the order the
commands were written. A message is:
  envelope written → (MAIL 250, RCPT 250, DATA 354) → hand-over recorded → content and final dot
  written (with the next envelope behind them) → 250: sent.
A refusal before the 354 fails that message (the transaction is reset with RSET); a refusal of the
final dot fails it after its hand-over. A connection lost before a message's hand-over gives that message
back to be sent once more on a new connection; lost after it, the message is "unconfirmed" and never
resent. A stop drops a connection whose next message is not handed over yet, never writing a final dot
for it: the server then discards that transaction, and the message stays claimed for the next run.

Servers without PIPELINING get one command at a time, the same state machine waiting for each reply.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import selectors
import smtplib
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils import timezone

from lastweek.mail.transport import Outcome, SendReport, SmtpBackend, TokenBucket

logger = logging.getLogger(__name__)

_FINAL_DOT = b"\r\n.\r\n"
# How long to wait for a reply before taking the connection for dead, when EMAIL_TIMEOUT is not set.
_DEFAULT_REPLY_TIMEOUT = 300.0
_POLL_SECONDS = 0.2


class _Expect(enum.Enum):
    """What a reply that the connection is waiting for answers."""

    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"
    DOT = "final dot"
    EMPTY_DOT = "final dot of an empty message"
    RSET = "RSET"


@dataclass(slots=True)
class Outgoing:
    """One prepared message: the key its hand-over is recorded under, the envelope, the DATA payload
    without its final dot (transport.smtp_data), and what the caller wants back in the message's report
    (`recipient`: request mail's Recipient, a reminder's notice)."""

    key: int
    to_address: str
    envelope_sender: str
    payload: bytes
    recipient: object = None
    handed: bool = False
    refusal: str = ""
    retried: bool = False


class _Connection:
    """One SMTP connection (opened by a SmtpBackend, so host, port, TLS and login come from the
    EMAIL_* settings) and the replies it waits for."""

    def __init__(self, backend: SmtpBackend, number: int) -> None:
        self.backend = backend
        self.number = number
        self.sock = None
        self.buffer = bytearray()
        self.expected: deque[tuple[_Expect, Outgoing | None]] = deque()
        self.unwritten: deque[tuple[bytes, _Expect, Outgoing | None]] = deque()
        self.ready: Outgoing | None = None  # got its 354; the content waits for the hand-over
        self.pipelining = False
        self.waiting_since = 0.0

    @property
    def busy(self) -> bool:
        return bool(self.expected or self.unwritten or self.ready)

    def connect(self) -> None:
        self.backend.open()
        smtp = self.backend.connection
        self.sock = smtp.sock
        self.pipelining = smtp.has_extn("pipelining")
        self.buffer.clear()

    def queue(self, command: bytes, expect: _Expect, outgoing: Outgoing | None) -> None:
        self.unwritten.append((command, expect, outgoing))

    def envelope(self, outgoing: Outgoing) -> None:
        address = outgoing.to_address
        self.queue(f"MAIL FROM:<{outgoing.envelope_sender}>\r\n".encode("ascii"), _Expect.MAIL, outgoing)
        self.queue(f"RCPT TO:<{address}>\r\n".encode("ascii"), _Expect.RCPT, outgoing)
        self.queue(b"DATA\r\n", _Expect.DATA, outgoing)

    def flush(self, prefix: bytes = b"") -> None:
        """Write what is queued: everything with PIPELINING, else one command once the server has
        answered the last (and `prefix`, a message's content, always)."""
        data = bytearray(prefix)
        while self.unwritten and (self.pipelining or not self.expected):
            command, expect, outgoing = self.unwritten.popleft()
            data += command
            self.expected.append((expect, outgoing))
        if data:
            if not self.waiting_since:
                self.waiting_since = time.monotonic()
            self.sock.sendall(data)

    def replies(self) -> list[tuple[int, str]]:
        """The complete replies in the buffer after one read from the socket (a multi-line reply
        counts once it has its last line)."""
        chunk = self.sock.recv(65536)
        if not chunk:
            raise smtplib.SMTPServerDisconnected("the server closed the connection")
        self.buffer += chunk
        while isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            self.buffer += self.sock.recv(65536)
        replies: list[tuple[int, str]] = []
        lines: list[bytes] = []
        start = consumed = 0
        while (end := self.buffer.find(b"\r\n", start)) >= 0:
            line = bytes(self.buffer[start:end])
            start = end + 2
            lines.append(line)
            if len(line) >= 4 and line[3:4] == b"-":
                continue
            try:
                code = int(line[:3])
            except ValueError:
                raise smtplib.SMTPServerDisconnected(f"not an SMTP reply: {line[:80]!r}") from None
            replies.append((code, b" ".join(part[4:] for part in lines).decode("utf-8", "replace")))
            lines = []
            consumed = start
        del self.buffer[:consumed]
        return replies

    def drop(self) -> list[Outgoing]:
        """Close without QUIT (mid-DATA a QUIT would be part of the message); return the messages the
        connection had in hand."""
        in_hand = [outgoing for _, outgoing in self.expected if outgoing is not None]
        in_hand += [outgoing for _, _, outgoing in self.unwritten if outgoing is not None]
        if self.ready is not None:
            in_hand.append(self.ready)
        self.expected.clear()
        self.unwritten.clear()
        self.ready = None
        self.waiting_since = 0.0
        self.sock = None
        self.backend._drop()
        unique: dict[int, Outgoing] = {id(outgoing): outgoing for outgoing in in_hand}
        return list(unique.values())

    def close(self) -> None:
        if self.busy:
            self.drop()
            return
        self.sock = None
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.backend.close()


class PipelinedSender:
    """Sends prepared messages over `backends` (one connection each) from the calling thread.

    `hand_over(keys)` is called just before the final dots of those messages are written; if
    it raises, their connections are dropped without the dots and the error propagates. `halted()` is
    asked before each new message is started: once it says yes, no message is started or handed over
    and the call returns when the handed ones are answered.
    """

    def __init__(
        self,
        backends: list[SmtpBackend],
        bucket: TokenBucket,
        hand_over: Callable[[list[int]], None],
        halted: Callable[[], bool],
    ) -> None:
        self.connections = [_Connection(backend, number) for number, backend in enumerate(backends, 1)]
        self.bucket = bucket
        self.hand_over = hand_over
        self.halted = halted
        self.selector = selectors.DefaultSelector()
        timeout = backends[0].timeout if backends else None
        self.reply_timeout = float(timeout) if timeout else _DEFAULT_REPLY_TIMEOUT

    def __enter__(self) -> PipelinedSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for connection in self.connections:
            if connection.sock is not None:
                self._unregister(connection)
            connection.close()
        self.selector.close()

    def send(self, messages: list[Outgoing]) -> Iterator[SendReport]:
        """Send `messages`, yielding a report for each message that was started. Messages never
        started (the run was halted) get no report and stay as they were."""
        self.todo = deque(messages)
        self.reports: deque[SendReport] = deque()
        while True:
            halted = self.halted()
            if not halted:
                self._start_idle()
            yield from self._take_reports()
            busy = [connection for connection in self.connections if connection.busy]
            if halted:
                busy = self._abandon_unhanded(busy)
            if not busy:
                if halted or not self.todo:
                    return
                continue
            self._serve(busy)
            yield from self._take_reports()

    def _take_reports(self) -> Iterator[SendReport]:
        while self.reports:
            yield self.reports.popleft()

    def _next(self, *, wait: bool = True) -> Outgoing | None:
        """The next message to start, once the rate allows; with `wait` false, None rather than wait."""
        if not self.todo or self.halted():
            return None
        if wait:
            self.bucket.take()
        elif not self.bucket.try_take():
            return None
        return self.todo.popleft()

    def _start_idle(self) -> None:
        for connection in self.connections:
            if connection.busy or not self.todo:
                continue
            outgoing = self._next()
            if outgoing is None:
                return
            if connection.sock is None and not self._connect(connection, outgoing):
                return
            connection.envelope(outgoing)
            self._write(connection)

    def _connect(self, connection: _Connection, outgoing: Outgoing) -> bool:
        try:
            connection.connect()
        except (smtplib.SMTPException, OSError) as error:
            backend = connection.backend
            self.reports.append(
                SendReport(outgoing.recipient, Outcome.UNAVAILABLE, f"{backend.host}:{backend.port}: {error}")
            )
            return False
        self.selector.register(connection.sock, selectors.EVENT_READ, connection)
        return True

    def _write(self, connection: _Connection, prefix: bytes = b"") -> bool:
        try:
            connection.flush(prefix)
        except OSError as error:
            self._lost(connection, error)
            return False
        return True

    def _serve(self, busy: list[_Connection]) -> None:
        """Wait for replies on the busy connections, act on them, then hand over and write the content
        of every message whose DATA was accepted, all at once."""
        for key, _ in self.selector.select(_POLL_SECONDS):
            connection = key.data
            try:
                for code, text in connection.replies():
                    self._on_reply(connection, code, text)
                    if connection.sock is None:
                        break
            except (smtplib.SMTPException, OSError) as error:
                self._lost(connection, error)
        now = time.monotonic()
        for connection in busy:
            waited = now - connection.waiting_since
            if connection.sock is not None and connection.expected and waited > self.reply_timeout:
                self._lost(connection, TimeoutError(f"no reply in {self.reply_timeout:.0f} s"))
        ready = [connection for connection in self.connections if connection.ready is not None]
        if ready and not self.halted():
            self._hand_over(ready)

    def _hand_over(self, ready: list[_Connection]) -> None:
        try:
            self.hand_over([connection.ready.key for connection in ready])
        except BaseException:
            for connection in ready:
                self._unregister(connection)
                connection.drop()
            raise
        for connection in ready:
            outgoing = connection.ready
            outgoing.handed = True
            connection.ready = None
            connection.expected.append((_Expect.DOT, outgoing))
            # Never wait for the rate here: the hand-overs are recorded and their dots must follow at
            # once. Without a token now, the next message starts when this connection is idle again.
            following = self._next(wait=False)
            if following is not None:
                connection.envelope(following)
            # The content, its final dot and the next envelope: one write, one round trip.
            self._write(connection, outgoing.payload + _FINAL_DOT)

    def _on_reply(self, connection: _Connection, code: int, text: str) -> None:
        if not connection.expected:
            raise smtplib.SMTPServerDisconnected(f"an unexpected reply: {code} {text}")
        expect, outgoing = connection.expected.popleft()
        connection.waiting_since = time.monotonic() if connection.expected else 0.0
        if code == 421 and expect is not _Expect.DOT:
            raise smtplib.SMTPServerDisconnected(f"{code} {text}")
        if expect is _Expect.DOT:
            self._on_final_dot(connection, outgoing, code, text)
        elif expect in (_Expect.MAIL, _Expect.RCPT):
            if code not in (250, 251) and not outgoing.refusal:
                outgoing.refusal = f"{code} {text}"
            if outgoing.refusal and not connection.pipelining:
                # One command at a time: what is left of this envelope is never written.
                self._drop_unwritten(connection, outgoing)
                self._refused(connection, outgoing, reset=expect is _Expect.RCPT)
                return
        elif expect is _Expect.DATA:
            if code == 354 and not outgoing.refusal:
                connection.ready = outgoing
            elif code == 354:
                # A server that took DATA after refusing the recipient: end the empty message.
                connection.queue(b".\r\n", _Expect.EMPTY_DOT, None)
                self._refused(connection, outgoing, reset=True)
            else:
                outgoing.refusal = outgoing.refusal or f"{code} {text}"
                self._refused(connection, outgoing, reset=True)
        elif expect is _Expect.RSET and code != 250:
            raise smtplib.SMTPServerDisconnected(f"RSET refused: {code} {text}")
        self._write(connection)

    def _on_final_dot(self, connection: _Connection, outgoing: Outgoing, code: int, text: str) -> None:
        if code == 250:
            self.reports.append(SendReport(outgoing.recipient, Outcome.SENT, at=timezone.now()))
        else:
            # Refused after its hand-over: failed, and not counted as a second attempt.
            self.reports.append(
                SendReport(outgoing.recipient, Outcome.REFUSED, f"{code} {text}", attempted=False)
            )
        if code == 421:
            raise smtplib.SMTPServerDisconnected(f"{code} {text}")

    def _refused(self, connection: _Connection, outgoing: Outgoing, *, reset: bool) -> None:
        self.reports.append(SendReport(outgoing.recipient, Outcome.REFUSED, outgoing.refusal))
        if reset:
            connection.queue(b"RSET\r\n", _Expect.RSET, None)
        self._write(connection)

    def _drop_unwritten(self, connection: _Connection, outgoing: Outgoing) -> None:
        connection.unwritten = deque(item for item in connection.unwritten if item[2] is not outgoing)

    def _lost(self, connection: _Connection, error: BaseException) -> None:
        """The connection failed: what was handed over is unconfirmed; the rest goes again, once."""
        if connection.sock is not None:
            self._unregister(connection)
        for outgoing in connection.drop():
            if outgoing.handed:
                self.reports.append(SendReport(outgoing.recipient, Outcome.UNCONFIRMED, str(error)))
            elif not outgoing.retried:
                outgoing.retried = True
                self.todo.appendleft(outgoing)
            else:
                backend = connection.backend
                self.reports.append(
                    SendReport(
                        outgoing.recipient, Outcome.UNAVAILABLE, f"{backend.host}:{backend.port}: {error}"
                    )
                )
        logger.warning("Mail server connection %d lost (%s)", connection.number, error)

    def _abandon_unhanded(self, busy: list[_Connection]) -> list[_Connection]:
        """On a halt: a connection whose messages are all unhanded is dropped at once (the server
        discards the open transaction); one waiting for a final dot's reply stays until it comes."""
        still = []
        for connection in busy:
            if any(expect is _Expect.DOT for expect, _ in connection.expected):
                still.append(connection)
                continue
            self._unregister(connection)
            connection.drop()
        return still

    def _unregister(self, connection: _Connection) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(connection.sock)

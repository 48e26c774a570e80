"""Request mail over SMTP: DKIM signing, the SMTP backend with a hand-over point just before the final
dot, and the senders that drive one or several connections at a steady rate.

Exactly once over SMTP. A server takes responsibility for a message when it reads the final
"\\r\\n.\\r\\n" of DATA; if the connection drops before that, it discards what it got. So the sender
writes the whole message except those five bytes, then runs `before_final_dot` (which records the
hand-over: a line in the sender's journal, see outbound.HandOverJournal), then writes them. A sender
killed at any point has therefore either
  * not recorded the hand-over: the server never completed the transaction and threw the message
    away, so sending it again on restart makes one copy; or
  * recorded it: the message is never sent again.

What remains is honest and small. A kill after the record but before the five bytes leave loses that
one message: recorded as handed, never delivered. With one connection the window is a few
microseconds of Python between the journal write and `sendall`; with several it also holds the
wake-up of the sender thread (tens of microseconds, milliseconds on a loaded machine). A connection
that drops after the dot but before the server's reply leaves a message that may or may not have
been accepted; it stays "handed" and is not sent again. Both err towards at most once, which is the
right side for a message people are told to expect once.
No protocol can close the gap entirely without the server deduplicating by Message-ID.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import logging
import multiprocessing
import queue
import re
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dkim
from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.utils import timezone

from lastweek.directives.request_message import Recipient, RequestComposer

logger = logging.getLogger(__name__)

# RFC 5321 4.5.2: a line starting with "." gets a second one; smtplib.SMTP.data() does the same.
_LEADING_DOT = re.compile(rb"(?m)^\.")
_LINE_END = re.compile(rb"\r\n|\n|\r(?!\n)")
_FINAL_DOT = b"\r\n.\r\n"

DKIM_SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to")


class MessageRefused(smtplib.SMTPResponseException):
    """The server refused this one message (a 4xx or 5xx reply); the connection is still usable."""

    def __init__(self, code: int, message: bytes | str, *, handed: bool) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        super().__init__(code, text)
        self.handed = handed

    def __str__(self) -> str:
        return f"{self.smtp_code} {self.smtp_error}"


@functools.lru_cache(maxsize=4)
def _dkim_key(path: str) -> bytes:
    """The PEM private key, read once per process (the file is only read again if its path changes)."""
    return Path(path).read_bytes()


def _sign(message: bytes, selector: bytes, domain: bytes, key: bytes) -> bytes:
    # Module-level and free of Django settings, so signing worker processes can run it.
    signature = dkim.sign(
        message,
        selector,
        domain,
        key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(DKIM_SIGNED_HEADERS),
    )
    return signature + message


class DkimSigner:
    """Puts a DKIM-Signature header in front of a message when DKIM_PRIVATE_KEY_FILE is set, and
    returns messages unchanged otherwise.

    Relaxed/relaxed canonicalization, so relays that re-fold headers or trailing spaces do not break
    the signature. dkimpy does RSA in pure Python: about 10 ms a signature on one core, holding the
    GIL. With `processes` > 1 the signing runs in that many worker processes, which sender threads
    wait on with the GIL released. (Signing on the relay, with OpenDKIM say, costs the sender nothing.)
    """

    def __init__(self, processes: int = 1) -> None:
        path = settings.DKIM_PRIVATE_KEY_FILE
        self.key = _dkim_key(path) if path else None
        self.selector = settings.DKIM_SELECTOR.encode("ascii")
        self.domain = settings.DKIM_DOMAIN.encode("ascii")
        self.pool = None
        if self.key and processes > 1:
            # spawn, not fork: the sending process has threads and open database connections.
            self.pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))

    def __call__(self, message: bytes) -> bytes:
        if self.key is None:
            return message
        if self.pool is None:
            return _sign(message, self.selector, self.domain, self.key)
        return self.pool.submit(_sign, message, self.selector, self.domain, self.key).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def smtp_data(message: bytes) -> bytes:
    """The DATA payload for `message` without the final "\\r\\n.\\r\\n": CRLF line ends, dots doubled."""
    line_ends = message.count(b"\r\n")
    if message.count(b"\n") != line_ends or message.count(b"\r") != line_ends:
        message = _LINE_END.sub(b"\r\n", message)
    if message.startswith(b".") or b"\n." in message:
        message = _LEADING_DOT.sub(b"..", message)
    return message[:-2] if message.endswith(b"\r\n") else message


class RequestMailBackend(EmailBackend):
    """Django's SMTP backend (host, port, TLS, login and timeout from the EMAIL_* settings) with
    `send_handed_over()` for one prepared message at a time."""

    def open(self) -> bool | None:
        opened = super().open()
        if opened:
            # The message and its final dot are two writes; with Nagle's algorithm the second would
            # wait for the server's delayed ACK of the first (40 ms on Linux) on every message.
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # smtplib greets lazily inside sendmail(); the lower-level calls used here need it first.
            self.connection.ehlo_or_helo_if_needed()
        return opened

    def send_handed_over(
        self,
        from_address: str,
        to_address: str,
        message: bytes,
        before_final_dot: Callable[[], None],
    ) -> None:
        """Send `message` in one SMTP transaction, running `before_final_dot` after everything but the
        final "\\r\\n.\\r\\n" has been written (see the module docstring for why).

        Raises `MessageRefused` when the server refuses this message (the connection stays open and
        usable for the next one), and `smtplib.SMTPException` or `OSError` when the connection fails;
        the connection is then closed and the next call opens a new one. If `before_final_dot` raises,
        the connection is dropped without the final dot, so the server discards the message.
        """
        self.open()
        smtp = self.connection
        try:
            self._start_data(smtp, from_address, to_address)
        except MessageRefused:
            self._reset()
            raise
        except BaseException:
            self._drop()
            raise
        try:
            smtp.send(smtp_data(message))
            before_final_dot()
            smtp.send(_FINAL_DOT)
            code, reply = smtp.getreply()
        except BaseException:
            # Mid-DATA nothing but closing the socket can abort the transaction.
            self._drop()
            raise
        if code != 250:
            if code == 421:
                self._drop()
            raise MessageRefused(code, reply, handed=True)

    def _start_data(self, smtp: smtplib.SMTP, from_address: str, to_address: str) -> None:
        """MAIL, RCPT and DATA up to the server's 354. The addresses go out as given: smtplib's
        mail()/rcpt() would parse each one again, and the caller has checked them already.

        With PIPELINING (RFC 2920) the three commands go in one write, saving two round trips.
        """
        commands = (f"MAIL FROM:<{from_address}>", f"RCPT TO:<{to_address}>", "DATA")
        if smtp.has_extn("pipelining"):
            smtp.send("".join(command + "\r\n" for command in commands))
            replies = [smtp.getreply() for _ in commands]
        else:
            replies = []
            for command in commands:
                smtp.send(command + "\r\n")
                replies.append(smtp.getreply())
                if replies[-1][0] >= 400:
                    break
        try:
            for (code, reply), accepted in zip(replies, ((250,), (250, 251), (354,)), strict=False):
                self._expect(code, reply, accepted)
        except MessageRefused:
            if replies[-1][0] == 354:  # a server that took DATA after refusing the recipient
                smtp.send(_FINAL_DOT[2:])
                smtp.getreply()
            raise

    def _expect(self, code: int, reply: bytes, accepted: tuple[int, ...]) -> None:
        if code in accepted:
            return
        if code == 421:  # the server is closing the connection: not this message's fault
            raise smtplib.SMTPServerDisconnected(f"{code} {reply.decode('utf-8', 'replace')}")
        raise MessageRefused(code, reply, handed=False)

    def _reset(self) -> None:
        try:
            self.connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        """Close the socket without QUIT (which, mid-DATA, would become part of the message)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Outcome(enum.Enum):
    """What became of one message."""

    SENT = "sent"
    REFUSED = "refused"
    UNCONFIRMED = "unconfirmed"
    UNAVAILABLE = "unavailable"
    CRASHED = "crashed"


@dataclass(slots=True)
class SendReport:
    """A sender's word on one message; `attempted` is false when no SMTP transaction was started."""

    recipient: Recipient
    outcome: Outcome
    detail: str = ""
    attempted: bool = True
    at: object = None
    error: BaseException | None = None


class InlineHandOver:
    """Mailer's `before_final_dot` for a message sent from the calling thread: records at once."""

    def __init__(self, recipient: Recipient, mark_handed: Callable[[list[int]], None]) -> None:
        self.recipient = recipient
        self.mark_handed = mark_handed
        self.done = False

    def __call__(self) -> None:
        self.mark_handed([self.recipient.assignment_id])
        self.done = True


class QueuedHandOver:
    """A sender thread at the final dot of one message, waiting for its hand-over to be recorded."""

    def __init__(self, recipient: Recipient, events: queue.SimpleQueue) -> None:
        self.recipient = recipient
        self.events = events
        self.done = False
        self._answered = threading.Event()
        self._granted = False

    def __call__(self) -> None:
        """Runs in the sender thread as mailer's `before_final_dot`."""
        self.events.put(self)
        self._answered.wait()
        if not self._granted:
            raise HandOverRefused("the hand-over was not recorded; the message is abandoned")
        self.done = True

    def answer(self, *, granted: bool) -> None:
        self._granted = granted
        self._answered.set()


class HandOverRefused(Exception):
    """The calling thread could not record a hand-over, so the final dot must not be sent."""


class Senders:
    """The SMTP connections and what composes and signs for them. With several connections, a thread
    for each: it takes recipients from `work`, and puts hand-overs and reports on `events` for the
    calling thread; with one, the calling thread sends itself."""

    def __init__(
        self,
        backends: list[RequestMailBackend],
        composer: RequestComposer,
        signer: DkimSigner,
        bucket: TokenBucket,
    ) -> None:
        self.work: queue.SimpleQueue[Recipient | None] = queue.SimpleQueue()
        self.events: queue.SimpleQueue[QueuedHandOver | SendReport] = queue.SimpleQueue()
        self.backends = backends
        self.composer = composer
        self.signer = signer
        self.bucket = bucket
        self.threads = [
            threading.Thread(target=self._serve, args=(backend,), name=f"smtp-sender-{number}", daemon=True)
            for number, backend in enumerate(backends, 1)
            if len(backends) > 1
        ]

    def __enter__(self) -> Senders:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.withdraw_unstarted()
        for _ in self.threads:
            self.work.put(None)
        # A sender still waiting at its final dot (the calling thread stopped on an error) is told no.
        while self.alive():
            for event in self.next_events(0.05):
                if isinstance(event, QueuedHandOver):
                    event.answer(granted=False)
        for thread in self.threads:
            thread.join()
        if not self.threads:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.backends[0].close()

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def submit(self, batch: list[Recipient]) -> int:
        for recipient in batch:
            self.work.put(recipient)
        return len(batch)

    def withdraw_unstarted(self) -> int:
        """Take back the recipients no sender has started on; they stay claimed."""
        withdrawn = 0
        with contextlib.suppress(queue.Empty):
            while True:
                if self.work.get_nowait() is None:
                    self.work.put(None)
                    break
                withdrawn += 1
        return withdrawn

    def next_events(self, timeout: float) -> list[QueuedHandOver | SendReport]:
        """The events waiting, or the first within `timeout` seconds (none if it passes)."""
        try:
            events = [self.events.get(timeout=timeout)]
        except queue.Empty:
            return []
        with contextlib.suppress(queue.Empty):
            while True:
                events.append(self.events.get_nowait())
        return events

    def _serve(self, backend: RequestMailBackend) -> None:
        try:
            while (recipient := self.work.get()) is not None:
                self.bucket.take()
                self.events.put(self.send(backend, recipient, QueuedHandOver(recipient, self.events)))
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                backend.close()

    def send(
        self, backend: RequestMailBackend, recipient: Recipient, hand_over: InlineHandOver | QueuedHandOver
    ) -> SendReport:
        """Compose, sign and send one message; what happened, as a report (errors included, so the
        calling thread stops and raises them)."""
        try:
            return self._send(backend, recipient, hand_over)
        except Exception as error:
            return SendReport(recipient, Outcome.CRASHED, str(error), error=error)

    def _send(
        self, backend: RequestMailBackend, recipient: Recipient, hand_over: InlineHandOver | QueuedHandOver
    ) -> SendReport:
        if not sendable(recipient.to_address):
            return SendReport(
                recipient, Outcome.REFUSED, "not a plain ASCII address; not sent", attempted=False
            )
        message = self.signer(self.composer.compose(recipient))
        for attempt in (1, 2):
            try:
                backend.send_handed_over(self.composer.from_address, recipient.to_address, message, hand_over)
            except MessageRefused as refusal:
                return SendReport(recipient, Outcome.REFUSED, str(refusal), attempted=not refusal.handed)
            except HandOverRefused as refused:
                return SendReport(recipient, Outcome.UNAVAILABLE, str(refused))
            except (smtplib.SMTPException, OSError) as error:
                if hand_over.done:
                    # The dot went (or was about to): the server may hold the message. Never resend.
                    return SendReport(recipient, Outcome.UNCONFIRMED, str(error))
                if attempt == 2:
                    return SendReport(
                        recipient, Outcome.UNAVAILABLE, f"{backend.host}:{backend.port}: {error}"
                    )
                logger.warning("Mail server connection lost (%s); reconnecting", error)
            else:
                return SendReport(recipient, Outcome.SENT, at=timezone.now())
        raise AssertionError("unreachable")


def sendable(address: str) -> bool:
    """A mailbox smtplib can send to as it is: ASCII, printable, no spaces or angle brackets."""
    return (
        address.isascii()
        and address.isprintable()
        and address.count("@") == 1
        and not any(character in address for character in " <>")
    )


class TokenBucket:
    """At most `rate` takes a second on average, in bursts of at most a tenth of a second's worth.
    Shared by the sender threads; a take that must wait reserves its token, then sleeps unlocked."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate / 10)
        self.clock = clock
        self.sleep = sleep
        self.tokens = 1.0
        self.last = clock()
        self.lock = threading.Lock()

    def take(self) -> None:
        """Wait, if need be, until one more event is allowed."""
        if self.rate <= 0:
            return
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate) - 1
            self.last = now
            wait = -self.tokens / self.rate
        if wait > 0:
            self.sleep(wait)

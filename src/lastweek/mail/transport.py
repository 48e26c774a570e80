"""Request mail over SMTP: DKIM signing, the DATA payload, the SMTP backend that opens connections for
the pipelined sender (pipeline.py), what became of each message, and the rate limit.

Exactly once over SMTP. A server takes responsibility for a message when it reads the final
"\\r\\n.\\r\\n" of DATA; if the connection drops before that, it discards what it got. So the sender
records the hand-over (a line in the sender's journal, see journal.HandOverJournal) once the server
has said 354 to DATA, and only then writes the content with its final dot. A sender killed at any point
has therefore either
  * not recorded the hand-over: the server never completed the transaction and threw the message
    away, so sending it again on restart makes one copy; or
  * recorded it: the message is never sent again.

What remains is honest and small. A kill after the record but before the bytes leave loses that
message: recorded as handed, never delivered. The journal write and the socket writes follow each other
in one thread, so the window is a few microseconds of Python per connection with a message ready.
A connection that drops after the dot but before the server's reply leaves a message that may or may
not have been accepted; it stays "handed" and is not sent again. Both err towards at most once, which
is the right side for a message people are told to expect once.
No protocol can close the gap entirely without the server deduplicating by Message-ID.
"""

from __future__ import annotations

import enum
import functools
import logging
import multiprocessing
import re
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

logger = logging.getLogger(__name__)

# RFC 5321 4.5.2: a line starting with "." gets a second one; smtplib.SMTP.data() does the same.
_LEADING_DOT = re.compile(rb"(?m)^\.")
_LINE_END = re.compile(rb"\r\n|\n|\r(?!\n)")

DKIM_SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to")


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
    the signature. dkimpy does RSA in pure Python: about 10 ms a signature on one core. With
    `processes` > 1 a batch is signed in that many worker processes before it is sent. (Signing on the
    relay, with OpenDKIM say, costs the sender nothing.)
    """

    def __init__(self, processes: int = 1) -> None:
        path = settings.DKIM_PRIVATE_KEY_FILE
        self.key = _dkim_key(path) if path else None
        self.selector = settings.DKIM_SELECTOR.encode("ascii")
        self.domain = settings.DKIM_DOMAIN.encode("ascii")
        self.pool = None
        if self.key and processes > 1:
            # spawn, not fork: the sending process has open database and SMTP connections.
            self.pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))

    def sign_all(self, messages: list[bytes]) -> list[bytes]:
        """`messages`, each signed; spread over the worker processes when there are several."""
        if self.key is None:
            return messages
        if self.pool is None:
            return [_sign(message, self.selector, self.domain, self.key) for message in messages]
        sign = functools.partial(_sign, selector=self.selector, domain=self.domain, key=self.key)
        # A few chunks per process: each chunk is one round trip to a worker.
        return list(self.pool.map(sign, messages, chunksize=max(1, len(messages) // 32)))

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


class SmtpBackend(EmailBackend):
    """Django's SMTP backend (host, port, TLS, login and timeout from the EMAIL_* settings), opened for
    the pipelined sender (pipeline.py), which then writes the transactions on its socket itself."""

    def open(self) -> bool | None:
        opened = super().open()
        if opened:
            # The message and its final dot are two writes; with Nagle's algorithm the second would
            # wait for the server's delayed ACK of the first (40 ms on Linux) on every message.
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # smtplib greets lazily inside sendmail(); the lower-level calls used here need it first.
            self.connection.ehlo_or_helo_if_needed()
        return opened

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
    """A sender's word on one message (`recipient` as the caller gave it); `attempted` is false when no
    SMTP transaction was started."""

    recipient: object
    outcome: Outcome
    detail: str = ""
    attempted: bool = True
    at: object = None
    error: BaseException | None = None


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

    def try_take(self) -> bool:
        """Take a token if one is there now; never wait."""
        if self.rate <= 0:
            return True
        with self.lock:
            now = self.clock()
            tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if tokens < 1:
                self.tokens = tokens
                return False
            self.tokens = tokens - 1
            return True

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

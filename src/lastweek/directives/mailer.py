"""Request mail as bytes and over SMTP: the message composer, DKIM signing, and the SMTP backend with a
hand-over point just before the final dot.

Exactly once over SMTP. A server takes responsibility for a message when it reads the final
"\\r\\n.\\r\\n" of DATA; if the connection drops before that, it discards what it got. So the sender
writes the whole message except those five bytes, then runs `before_final_dot` (which commits the
message's state as "handed"), then writes them. A sender killed at any point has therefore either
  * not committed "handed": the server never completed the transaction and threw the message away,
    so sending it again on restart makes one copy; or
  * committed "handed": the message is never sent again.

What remains is honest and small. A kill after the commit but before the five bytes leave (a few
microseconds of Python between the commit returning and `sendall`) loses that one message: recorded
as handed, never delivered. A connection that drops after the dot but before the server's reply
leaves a message that may or may not have been accepted; it stays "handed" and is not sent again.
Both err towards at most once, which is the right side for a message people are told to expect once.
No protocol can close the gap entirely without the server deduplicating by Message-ID.
"""

from __future__ import annotations

import binascii
import functools
import multiprocessing
import re
import smtplib
import socket
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from email.header import Header
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dkim
from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.template import Context
from django.template.loader import get_template

from lastweek.directives.tokens import format_verify_code, reply_address

if TYPE_CHECKING:
    from lastweek.directives.models import Cycle
    from lastweek.directives.outbound import Recipient

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


class RequestComposer:
    """Builds the request message of one cycle for one recipient; what all share is prepared once."""

    def __init__(self, cycle: Cycle) -> None:
        directive = cycle.directive
        self.cycle = cycle
        self.from_address = settings.DEFAULT_FROM_EMAIL
        self.from_header = formataddr((_one_line(directive.sender_name), self.from_address), charset="utf-8")
        self.directive_zone = _zone(directive.time_zone) or ZoneInfo("UTC")
        self.leave_grace_hours = directive.leave_grace_hours
        site_url = settings.SITE_URL.rstrip("/")
        self.body = BodyTemplate(
            "directives/request_email.txt",
            {
                "question": _normalize_newlines(directive.question).strip(),
                "instructions": _normalize_newlines(directive.instructions).strip(),
                "max_bullets": directive.max_bullets,
                "sender_name": directive.sender_name,
                "site_url": site_url + "/",
                "verify_url": site_url + "/verify/",
            },
        )
        self._subjects: dict[str, str] = {}
        self._deadlines: dict[tuple, str] = {}
        self._date = (0, "")

    def compose(self, recipient: Recipient) -> bytes:
        """The complete message (headers and body, CRLF line ends), ready for signing and sending."""
        body = self.body.render(
            {
                "first_name": recipient.first_name,
                "agency": recipient.agency,
                "manager": recipient.manager,
                "deadline": self.deadline_text(recipient),
                "verify_code": format_verify_code(recipient.verify_code),
            }
        )
        encoding, payload = _encode_body(body.strip() + "\n")
        to_name = _one_line(f"{recipient.first_name} {recipient.last_name}")
        headers = (
            f"From: {self.from_header}\r\n"
            f"To: {formataddr((to_name, recipient.to_address), charset='utf-8')}\r\n"
            f"Reply-To: {reply_address(recipient.assignment_id)}\r\n"
            f"Subject: {self.subject(recipient.agency)}\r\n"
            f"Date: {self.date()}\r\n"
            f"Message-ID: {recipient.message_id}\r\n"
            "Auto-Submitted: auto-generated\r\n"
            f"X-Lastweek-Cycle: {self.cycle.pk}\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
        )
        return headers.encode("ascii") + payload

    def subject(self, agency: str) -> str:
        subject = self._subjects.get(agency)
        if subject is None:
            text = _one_line(f"What did you get done last week? (week {self.cycle.week}, {agency})")
            charset = "us-ascii" if text.isascii() else "utf-8"
            subject = Header(text, charset, header_name="Subject").encode(linesep="\r\n")
            self._subjects[agency] = subject
        return subject

    def date(self) -> str:
        """The Date header value, formatted once a second."""
        second = int(time.time())
        if self._date[0] != second:
            self._date = (second, formatdate(second, localtime=True))
        return self._date[1]

    def deadline_text(self, recipient: Recipient) -> str:
        """The deadline in the assignee's own time zone, e.g. "Monday, December 7, 2026, 11:59 PM EST"."""
        if recipient.due_at is None and recipient.on_leave:
            return f"{self.leave_grace_hours} hours after you return from leave"
        due = recipient.due_at or self.cycle.deadline
        key = (due, recipient.time_zone)
        text = self._deadlines.get(key)
        if text is None:
            local = due.astimezone(_zone(recipient.time_zone) or self.directive_zone)
            hour = local.hour % 12 or 12
            text = f"{local:%A, %B} {local.day}, {local.year}, {hour}:{local:%M %p %Z}"
            self._deadlines[key] = text
        return text


class BodyTemplate:
    """A Django template rendered per message at the cost of a string join.

    The template is rendered once per "shape" (which per-message values are empty, the only thing its
    {% if %} tags can see) with a marker in place of each value, and split at the markers; a message
    is then the pieces joined with its values. The first message of each shape is also rendered the
    ordinary way and compared: a template that transforms a value (a filter, say) fails the comparison
    and that shape is rendered the ordinary way from then on.
    """

    def __init__(self, name: str, shared: dict) -> None:
        self.template = get_template(name).template
        self.shared = shared
        self._pieces: dict[tuple[bool, ...], list[str | None] | None] = {}

    def render(self, values: dict[str, str]) -> str:
        values = {name: value.replace("\0", "") for name, value in values.items()}
        shape = tuple(bool(value) for value in values.values())
        if shape not in self._pieces:
            self._pieces[shape] = self._split(values)
        pieces = self._pieces[shape]
        if pieces is None:
            return self._render_plainly(values)
        names = list(values)
        return "".join(
            piece if index % 2 == 0 else values[names[int(piece)]] for index, piece in enumerate(pieces)
        )

    def _split(self, sample: dict[str, str]) -> list[str] | None:
        markers = {
            name: f"\0{number}\0" if value else "" for number, (name, value) in enumerate(sample.items())
        }
        pieces = re.split(r"\0(\d+)\0", self._render_plainly(markers))
        names = list(sample)
        joined = "".join(
            piece if index % 2 == 0 else sample[names[int(piece)]] for index, piece in enumerate(pieces)
        )
        return pieces if joined == self._render_plainly(sample) else None

    def _render_plainly(self, values: dict[str, str]) -> str:
        return self.template.render(Context({**self.shared, **values}, autoescape=False))


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _one_line(text: str) -> str:
    """Header text without line breaks or runs of spaces: roster names must not inject headers."""
    return " ".join(text.split())


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _encode_body(text: str) -> tuple[str, bytes]:
    """7bit when the text allows it (readable in any mail store), else quoted-printable UTF-8."""
    data = text.encode("utf-8")
    if data.isascii() and max(map(len, data.split(b"\n"))) <= 998:
        return "7bit", data.replace(b"\n", b"\r\n")
    return "quoted-printable", binascii.b2a_qp(data).replace(b"\n", b"\r\n")

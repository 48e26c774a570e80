"""The request message: its headers and body for one recipient, as bytes ready to sign and send."""

from __future__ import annotations

import binascii
import datetime as dt
import re
import time
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.template import Context
from django.template.loader import get_template

from lastweek.codes import format_verify_code
from lastweek.mail import reply_address

if TYPE_CHECKING:
    from lastweek.directives.models import Cycle


@dataclass(slots=True)
class Recipient:
    """One assignee as a message needs them: read per batch, with the claimed Message-ID and code.
    Agency and manager are the assignment's snapshots, so the message names the records in force when
    the cycle opened. `recovered` marks a claim left by an interrupted run."""

    assignment_id: int
    to_address: str
    message_id: str
    verify_code: str
    first_name: str
    last_name: str
    time_zone: str
    due_at: dt.datetime | None
    on_leave: bool
    agency: str
    manager: str
    recovered: bool = False


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

    def compose(self, recipient: Recipient, reply_to: str | None = None) -> bytes:
        """The complete message (headers and body, CRLF line ends), ready for signing and sending.
        `reply_to` is the assignment's reply address when the caller has it already."""
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
            f"Reply-To: {reply_to or reply_address(recipient.assignment_id)}\r\n"
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

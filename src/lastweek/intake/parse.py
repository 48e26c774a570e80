"""`parse_message(raw)`: one inbound mail as a `ParsedMessage` (what kind it is and why, who sent it to
whom, in reply to what, the new text and its bullets). Pure: no Django, no database, never raises."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import NamedTuple

from lastweek.intake import automatic, mime, structure
from lastweek.intake.bullets import extract_bullets
from lastweek.intake.html_text import html_to_text
from lastweek.intake.quoting import strip_quoted_reply
from lastweek.intake.signatures import strip_signature

logger = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_MAX_REFERENCES = 50
_MAX_ADDRESSES = 50
_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")
_AUTH_FAILURE = re.compile(r"\b(dmarc|spf)\s*=\s*fail\b", re.IGNORECASE)
_REPORT_PARTS = {"message/delivery-status", "text/rfc822-headers", "message/disposition-notification"}
_QUOTED_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|\((?:\\.|[^()\\])*\)')
_ADDRESS = re.compile(
    r"<\s*(?:[^<>:@\s]*:)?([^<>\s@]+@[^<>\s@]+?)\s*>"  # <addr>, with an obsolete route stripped
    r"|(?<![^\s,;:<])([^\s<>@,;:\"()\[\]]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"  # a bare addr-spec
)
_RFC5322_DATE = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s+([+-])(\d{2})(\d{2})(?:\s|$)"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_ZONES: dict[int, timezone] = {0: UTC}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Kind(StrEnum):
    ANSWER = "answer"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    UNREADABLE = "unreadable"


class Attachment(NamedTuple):
    filename: str
    content_type: str
    size: int


class ParsedMessage(NamedTuple):
    """What parse_message() read. A named tuple: the mailbox import's workers send thousands a second
    to the importing process, and a tuple pickles in a fraction of a frozen dataclass's time."""

    kind: Kind
    reason: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    from_address: str | None
    to_addresses: tuple[str, ...]
    subject: str
    date: datetime | None
    authentication_failed: str | None
    text: str
    bullets: tuple[str, ...]
    bounce_recipients: tuple[str, ...]
    bounced_message_ids: tuple[str, ...]
    bounce_status: str
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]


def parse_message(raw: bytes) -> ParsedMessage:
    """The message read as far as it can be. Never raises: input that is not mail, or breaks the parser,
    comes back as Kind.UNREADABLE with the reason."""
    defects: list[str] = []
    try:
        return _parse(raw, defects)
    except Exception as error:  # the intake must never stop on one message; the reason says what broke
        logger.warning("unreadable message (%s)", type(error).__name__)
        return _unreadable(f"parser error: {type(error).__name__}", defects)


def _parse(raw: bytes, defects: list[str]) -> ParsedMessage:
    if not raw.strip():
        return _unreadable("empty message", defects)
    message = structure.read_message(raw, defects)
    headers = message.headers
    if not headers:
        return _unreadable("no mail headers", defects)
    subject = _clean(mime.header_text(headers.get("subject"), defects))
    from_address = next(iter(_addresses(headers, ("from",))), None)
    to_addresses = _addresses(headers, _RECIPIENT_HEADERS)
    leaves = list(structure.leaves(message, defects))
    body, attachments = _body(leaves, message.content_type == "multipart/report", defects)
    kind, reason, bounce = _kind(message, headers, leaves, body, subject, set(to_addresses))
    text = strip_signature(strip_quoted_reply(body)) if body is not None else ""
    if kind is Kind.ANSWER and body is None:
        kind, reason = Kind.UNREADABLE, _no_text_reason(message, leaves)
    elif kind is Kind.ANSWER and not text:
        kind, reason = Kind.UNREADABLE, "no new text above the quoted message"
    return ParsedMessage(
        kind=kind,
        reason=reason,
        message_id=_first_id(headers.get("message-id")),
        in_reply_to=_references(headers),
        from_address=from_address,
        to_addresses=to_addresses,
        subject=subject,
        date=_date(headers.get("date"), defects),
        authentication_failed=_authentication_failed(headers),
        text=text,
        bullets=extract_bullets(text) if kind is Kind.ANSWER else (),
        bounce_recipients=bounce.recipients if bounce else (),
        bounced_message_ids=bounce.message_ids if bounce else (),
        bounce_status=bounce.status if bounce else "",
        attachments=tuple(attachments),
        defects=tuple(dict.fromkeys(defects)),
    )


def _kind(
    message: structure.Part,
    headers: structure.Headers,
    leaves: list[structure.Leaf],
    body: str | None,
    subject: str,
    own: set[str],
) -> tuple[Kind, str, automatic.Bounce | None]:
    bounce = automatic.bounce(message, headers, leaves, body or "", subject, own)
    if bounce is not None:
        return Kind.BOUNCE, bounce.reason, bounce
    auto = automatic.report_notice(message, leaves, subject) or automatic.auto_reply_reason(headers, subject)
    if auto is not None:
        return Kind.AUTO_REPLY, auto, None
    return Kind.ANSWER, "reply text", None


def _no_text_reason(message: structure.Part, leaves: list[structure.Leaf]) -> str:
    """Why there is no text to read: encrypted or opaque-signed mail (common with PIV cards) says so."""
    if message.content_type == "multipart/encrypted":
        return "encrypted (PGP/MIME): no readable text"
    for leaf in leaves:
        if leaf.content_type in {"application/pkcs7-mime", "application/x-pkcs7-mime"}:
            kind = (leaf.part.param("smime-type") or "").lower()
            if kind == "signed-data":
                return "S/MIME opaque-signed (signed-data): no readable text"
            return "S/MIME encrypted (enveloped-data): no readable text"
    return "no text body"


def _body(
    leaves: list[structure.Leaf], report: bool, defects: list[str]
) -> tuple[str | None, list[Attachment]]:
    """The text of the first plain-text body part (or, failing one, the first HTML part) and every other
    part recorded as an attachment, unread. The machine-readable parts of a delivery report are not
    attachments: the bounce is read from them."""
    plain: structure.Leaf | None = None
    html: structure.Leaf | None = None
    attachments: list[Attachment] = []
    for leaf in leaves:
        filename = structure.filename(leaf.part)
        disposition = structure.disposition(leaf.part)
        is_text = leaf.content_type in {"text/plain", "text/html"}
        if is_text and disposition != "attachment" and not filename:
            if leaf.content_type == "text/plain" and plain is None:
                plain = leaf
                continue
            if leaf.content_type == "text/html" and html is None:
                html = leaf
                continue
            if leaf.inside_alternative:
                continue
        if leaf.content_type in _REPORT_PARTS or (report and leaf.content_type == "message/rfc822"):
            continue
        attachments.append(
            Attachment(
                _clean(mime.header_text(filename, defects))[:255],
                leaf.content_type,
                mime.encoded_size(leaf.part),
            )
        )
    if plain is not None:
        text = _text(plain, defects)
        # Some clients send an empty plain-text alternative next to the HTML that holds the answer.
        if text.strip() or html is None:
            return text, attachments
    if html is not None:
        return _clean_body(html_to_text(_decoded(html, defects))), attachments
    return None, attachments


def _text(leaf: structure.Leaf, defects: list[str]) -> str:
    text = _clean_body(_decoded(leaf, defects))
    if (leaf.part.param("format") or "").lower() == "flowed":
        text = _unflow(text, (leaf.part.param("delsp") or "").lower() == "yes")
    return text


def _decoded(leaf: structure.Leaf, defects: list[str]) -> str:
    return mime.decode_text(mime.payload_bytes(leaf.part, defects), leaf.part.param("charset"), defects)


def _unflow(text: str, delete_space: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next one."""
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        if line.endswith(" ") and line != "-- ":
            carry += line[:-1] if delete_space else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


def _clean_body(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _clean(text: str) -> str:
    # Printable text holds none of the control characters: most headers and addresses skip the regex.
    return text if text.isprintable() else _CONTROL.sub("", text)


def _addresses(headers: structure.Headers, names: tuple[str, ...]) -> tuple[str, ...]:
    """The addr-specs in these headers, lower-cased, in order, each once. Display names and comments
    are dropped first, so an address-like display name ("jane@x.gov" <jane@x.gov>) is not counted."""
    found: dict[str, None] = {}
    for name in names:
        for value in headers.all(name):
            text = _QUOTED_OR_COMMENT.sub(" ", value)
            for angled, bare in _ADDRESS.findall(text):
                address = _clean(angled or bare).lower()
                if len(address) <= 254:
                    found[address] = None
            if len(found) >= _MAX_ADDRESSES:
                return tuple(found)[:_MAX_ADDRESSES]
    return tuple(found)


def _first_id(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)[: mime.MAX_HEADER]
    found = _MESSAGE_ID.search(text)
    identifier = found.group(1) if found else text.strip()
    return _clean(identifier)[:250] or None


def _references(headers: structure.Headers) -> tuple[str, ...]:
    ids: dict[str, None] = {}
    for name in ("in-reply-to", "references"):
        for value in headers.all(name):
            for identifier in _MESSAGE_ID.findall(value):
                ids[_clean(identifier)] = None
    return tuple(ids)[:_MAX_REFERENCES]


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if value is None:
        return None
    text = value[:200]
    found = _RFC5322_DATE.match(text)
    if found is not None:
        try:
            return _common_date(found)
        except (ValueError, KeyError):
            pass  # e.g. 31 February: let the stdlib judge it
    try:
        date = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("unreadable Date")
        return None
    # "-0000" (RFC 5322: time zone unknown) parses naive; the time is UTC.
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def _common_date(found: re.Match[str]) -> datetime:
    """The usual "Mon, 30 Nov 2026 09:12:44 -0500" without the stdlib's general parser (a tenth of
    the time; every reply has a Date)."""
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
    offset = (int(zone_hours) * 60 + int(zone_minutes)) * (-1 if sign == "-" else 1)
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, timezone(timedelta(minutes=offset)))
    return datetime(
        int(year), _MONTHS[month.lower()], int(day), int(hour), int(minute), int(second or 0), tzinfo=zone
    )


def _authentication_failed(headers: structure.Headers) -> str | None:
    """ "dmarc=fail" or "spf=fail" when the topmost Authentication-Results (the one our own gateway added;
    lower ones come from wherever the message has been, the sender included) records it."""
    value = headers.get("authentication-results")
    if value is None:
        return None
    found = _AUTH_FAILURE.search(str(value)[: mime.MAX_HEADER])
    return f"{found.group(1).lower()}=fail" if found else None


def _unreadable(reason: str, defects: list[str]) -> ParsedMessage:
    return ParsedMessage(
        kind=Kind.UNREADABLE,
        reason=reason,
        message_id=None,
        in_reply_to=(),
        from_address=None,
        to_addresses=(),
        subject="",
        date=None,
        authentication_failed=None,
        text="",
        bullets=(),
        bounce_recipients=(),
        bounced_message_ids=(),
        bounce_status="",
        attachments=(),
        defects=tuple(dict.fromkeys(defects)),
    )

"""Deterministic synthetic replies to request mail, as raw message bytes, and a fast Maildir writer.

Each reply is drawn from a `random.Random` seeded by (seed, assignment id), so the same seed gives the
same bytes for every assignment whatever else is generated. About 3% are out-of-office replies, 0.5%
bounces (a DSN to the reply address naming the employee's address and the request's Message-ID), 5%
copies of a few circulating templates with small edits, 1% carry a sensitive slip (a classification
or CUI marking, an SSN-like number), 4% arrive after the deadline and 1% come from an address that is
not the employee's. The rest are answers written in the major clients' styles (Outlook plain and HTML,
Outlook on the web, Gmail, Apple Mail, iPhone, Android, Thunderbird, Lotus Notes), in several charsets
and transfer encodings. Pure: no Django, no database."""

from __future__ import annotations

import datetime as dt
import os
import random
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from lastweek.synth import reply_vocabulary as words
from lastweek.synth.reply_mail import (
    CLIENT_WEIGHTS,
    CLIENTS,
    REQUEST_LEAD,
    WRITERS,
    encode_text,
    header_block,
)

BOUNCE_SHARE = 0.005
OUT_OF_OFFICE_SHARE = 0.03
TEMPLATE_SHARE = 0.05
SENSITIVE_SHARE = 0.01
LATE_SHARE = 0.04
UNKNOWN_SENDER_SHARE = 0.01
_ZONES = tuple(dt.timezone(dt.timedelta(hours=hours)) for hours in (-5, -6, -7, -8, -10, -4, 0))
_BULLET_COUNTS = (1, 2, 3, 3, 4, 4, 5, 5, 5, 6, 7)


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """What one reply is written from: the assignment and the request it answers."""

    assignment_id: int
    reply_address: str
    first_name: str
    last_name: str
    email: str
    agency_name: str
    title: str
    manager_name: str
    due_at: dt.datetime
    request_message_id: str  # as sent, with angle brackets
    request_from: str = "Weekly accomplishments <lastweek@lastweek.example.gov>"
    request_subject: str = "What did you get done last week?"


@dataclass(frozen=True, slots=True)
class SynthReply:
    """One generated message and what it is, for tests and benchmarks to check against."""

    assignment_id: int
    raw: bytes
    kind: str  # what parse_message must find: "answer", "auto_reply" or "bounce"
    client: str
    bullets: tuple[str, ...]  # the bullets written, for answers
    date: dt.datetime
    late: bool
    template: bool
    sensitive: bool
    unknown_sender: bool
    attributable: bool = True  # False: neither a reply token nor a reference to the request in it


def reply_for(request: ReplyRequest, seed: int = 42) -> SynthReply:
    """The reply one assignee sends, the same bytes for the same seed and request."""
    rng = random.Random(seed * 10_000_019 + request.assignment_id)
    roll = rng.random()
    late = rng.random() < LATE_SHARE
    date = _date(rng, request.due_at, late)
    if roll < BOUNCE_SHARE:
        return _bounce(rng, request, date)
    if roll < BOUNCE_SHARE + OUT_OF_OFFICE_SHARE:
        return _out_of_office(rng, request, date, late)
    return _answer(rng, request, date, late)


def replies(requests: Iterable[ReplyRequest], seed: int = 42) -> Iterator[SynthReply]:
    for request in requests:
        yield reply_for(request, seed)


def write_maildir(
    messages: Iterable[SynthReply], out: Path, on_message: Callable[[int], None] | None = None
) -> int:
    """Write the messages into a Maildir (`new/`, `cur/`, `tmp/`) with one plain file write each; names
    are unique and deterministic. Returns how many were written."""
    new = out / "new"
    for folder in ("new", "cur", "tmp"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    count = 0
    for count, message in enumerate(messages, start=1):
        name = f"{int(message.date.timestamp())}.A{message.assignment_id}.lastweek-synth"
        fd = os.open(new / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, message.raw)
        finally:
            os.close(fd)
        if on_message is not None and count % 1000 == 0:
            on_message(count)
    return count


# Answers


def _answer(rng: random.Random, request: ReplyRequest, date: dt.datetime, late: bool) -> SynthReply:
    template = rng.random() < TEMPLATE_SHARE
    bullets = _template_bullets(rng) if template else _work_bullets(rng, request)
    sensitive = rng.random() < SENSITIVE_SHARE
    if sensitive:
        bullets[rng.randrange(len(bullets))] = _slip(rng)
    unknown = rng.random() < UNKNOWN_SENDER_SHARE
    sender = _personal_address(rng, request) if unknown else request.email
    client = rng.choices(CLIENTS, weights=CLIENT_WEIGHTS)[0]
    body_lines, written = _layout(rng, bullets)
    headers, body = WRITERS[client](rng, request, sender, date, body_lines)
    # Half the unknown senders write to the general address, as if forwarded a request by a colleague.
    attributable = not (unknown and rng.random() < 0.5)
    if not attributable:
        headers = _unaddressed(headers, request)
    return SynthReply(
        request.assignment_id,
        headers + body,
        "answer",
        client,
        tuple(written),
        date,
        late,
        template,
        sensitive,
        unknown,
        attributable,
    )


def _unaddressed(headers: bytes, request: ReplyRequest) -> bytes:
    general = "lastweek@" + request.reply_address.rsplit("@", 1)[-1]
    lines = [
        line for line in headers.split(b"\r\n") if not line.startswith((b"In-Reply-To:", b"References:"))
    ]
    return b"\r\n".join(lines).replace(f"To: {request.reply_address}".encode(), f"To: {general}".encode())


def _work_bullets(rng: random.Random, request: ReplyRequest) -> list[str]:
    family = words.family_of(request.agency_name)
    pool = words.MISSION_WORK.get(family, ()) + words.COMMON_WORK
    chosen = rng.sample(pool, min(rng.choice(_BULLET_COUNTS), len(pool)))
    return [_fill(rng, phrase) for phrase in chosen]


def _fill(rng: random.Random, phrase: str) -> str:
    if "{" not in phrase:
        return phrase
    place = rng.choice(words.ACCENTED_PLACES) if rng.random() < 0.08 else rng.choice(words.PLACES)
    ssn = _ssn(rng) if "{ssn}" in phrase else ""
    return phrase.format(n=rng.randint(2, 240), place=place, ssn=ssn)


def _template_bullets(rng: random.Random) -> list[str]:
    bullets = list(rng.choice(words.TEMPLATES))
    old, new = rng.choice(words.TEMPLATE_EDITS)
    index = rng.randrange(len(bullets))
    bullets[index] = bullets[index].replace(old, new)
    if rng.random() < 0.5:
        bullets.pop(rng.randrange(len(bullets)))
    return bullets


def _slip(rng: random.Random) -> str:
    return _fill(rng, rng.choice(words.SENSITIVE_SLIPS))


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 899):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


def _layout(rng: random.Random, bullets: list[str]) -> tuple[list[str], list[str]]:
    """The answer's lines in one of the ways people write a list, and the bullets a reader sees in it."""
    style = rng.choices(("-", "*", "•", "1.", "1)", "a)", "lines", "prose"), (30, 12, 10, 14, 6, 4, 14, 10))[
        0
    ]
    lines = [rng.choice(words.GREETINGS), ""] if rng.random() < 0.3 else []
    if style != "prose" and rng.random() < 0.2:
        lines.append(rng.choice(words.INTRODUCTIONS))
    if style == "lines":
        written = [bullet + "." for bullet in bullets]
        lines.extend(written)
    elif style == "prose":
        sentence = "Last week I " + ", ".join(b[0].lower() + b[1:] for b in bullets[:-1])
        sentence += (" and " if len(bullets) > 1 else "") + bullets[-1][0].lower() + bullets[-1][1:] + "."
        if len(bullets) == 1:
            sentence = "Last week I " + bullets[0][0].lower() + bullets[0][1:] + "."
        written = [sentence]
        lines.extend(textwrap.wrap(sentence, 72, break_on_hyphens=False))
    else:
        written = list(bullets)
        lines.extend(f"{_mark(style, index)} {bullet}" for index, bullet in enumerate(bullets))
    return lines, written


def _mark(style: str, index: int) -> str:
    if style == "1.":
        return f"{index + 1}."
    if style == "1)":
        return f"{index + 1})"
    if style == "a)":
        return f"{'abcdefghij'[index]})"
    return style


# Automatic replies and bounces


def _out_of_office(rng: random.Random, request: ReplyRequest, date: dt.datetime, late: bool) -> SynthReply:
    back = date + dt.timedelta(days=rng.randint(2, 14))
    text = rng.choice(words.OUT_OF_OFFICE).format(
        back=f"{back:%A, %B} {back.day}", manager=request.manager_name or "my supervisor"
    )
    signal = rng.randrange(4)
    subject = rng.choice(words.OUT_OF_OFFICE_SUBJECTS).format(subject=request.request_subject)
    extra = ("Auto-Submitted: auto-replied", "X-Autoreply: yes", "Precedence: bulk", "")[signal]
    if signal != 3:
        subject = "Re: " + request.request_subject if rng.random() < 0.5 else subject
    ctype, body = encode_text(rng, text + "\n", ("utf-8", "us-ascii"))
    headers = header_block(
        rng, request, request.email, date, "", ctype, "outlook.com", subject=subject, extra=extra
    )
    return SynthReply(
        request.assignment_id,
        headers + body,
        "auto_reply",
        "out-of-office",
        (),
        date,
        late,
        False,
        False,
        False,
    )


def _bounce(rng: random.Random, request: ReplyRequest, date: dt.datetime) -> SynthReply:
    boundary = f"{rng.getrandbits(48):012X}.{request.assignment_id}/mx1"
    domain = request.email.rsplit("@", 1)[-1]
    message_id = f"<{date:%Y%m%d%H%M%S}.{rng.getrandbits(32):08X}@mx1.{domain}>"
    headers = (
        f"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx1.{domain} (Mail Delivery System)\r\n"
        f"To: {request.reply_address}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(date)}\r\nMessage-ID: {message_id}\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
    )
    body = (
        f"This is a MIME-encapsulated message.\r\n\r\n--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"This is the mail system at host mx1.{domain}.\r\n\r\nYour message could not be delivered to one or "
        f"more recipients.\r\n\r\n<{request.email}>: 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx1.{domain}\r\n\r\n"
        f"Final-Recipient: rfc822; {request.email}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{request.email}>: User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {request.request_from}\r\n"
        f"To: {request.email}\r\nReply-To: {request.reply_address}\r\nSubject: {request.request_subject}\r\n"
        f"Message-ID: {request.request_message_id}\r\n\r\n--{boundary}--\r\n"
    )
    raw = (headers + body).encode("utf-8")
    return SynthReply(
        request.assignment_id, raw, "bounce", "mailer-daemon", (), date, False, False, False, False
    )


def _date(rng: random.Random, due: dt.datetime, late: bool) -> dt.datetime:
    # Between the request going out and the deadline, or up to two days after it.
    offset = rng.uniform(1, 48) if late else -rng.uniform(0.2, REQUEST_LEAD.total_seconds() / 3600 - 1)
    zone = rng.choice(_ZONES)
    return (due + dt.timedelta(hours=offset)).astimezone(zone).replace(microsecond=0)


def _personal_address(rng: random.Random, request: ReplyRequest) -> str:
    local = f"{request.first_name}.{request.last_name}{rng.randint(1, 99)}".lower().replace(" ", "")
    local = "".join(c for c in local if c.isascii() and (c.isalnum() or c in ".-_")) or "someone"
    return f"{local}@{rng.choice(words.PERSONAL_DOMAINS)}"

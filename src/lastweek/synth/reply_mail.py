"""How a synthetic reply is written as mail: each client's layout and quoting of the request, the
signature blocks, headers, charsets and transfer encodings. Pure."""

from __future__ import annotations

import base64
import datetime as dt
import quopri
import random
import textwrap
from email.utils import format_datetime
from html import escape as _escape
from typing import TYPE_CHECKING

from lastweek.synth import reply_vocabulary as words

if TYPE_CHECKING:
    from lastweek.synth.replies import ReplyRequest

REQUEST_LEAD = dt.timedelta(days=3)


def _signature(rng: random.Random, request: ReplyRequest) -> list[str]:
    name = f"{request.first_name} {request.last_name}"
    shape = rng.random()
    if shape < 0.25:
        return ["", rng.choice(words.SIGN_OFFS), request.first_name]
    if shape < 0.4:
        return ["", "-- ", name, request.agency_name]
    if shape < 0.55:
        return []
    phone = f"({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}"
    block = [name, request.title or "Program Analyst", request.agency_name, f"Office: {phone}"]
    if rng.random() < 0.3:
        block.append(
            "CONFIDENTIALITY NOTICE: This e-mail is intended only for the named recipient and may "
            "contain Controlled Unclassified Information."
        )
    return ["", rng.choice(words.SIGN_OFFS), *block] if shape < 0.85 else ["", *block]


# Clients: each returns the header block and the body, the quoted request under the new text.


def _outlook_plain(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    text = "\n".join([*lines, *_signature(rng, request), "", *_outlook_quote(request)])
    ctype, body = encode_text(rng, text, ("utf-8", "windows-1252", "us-ascii"))
    return header_block(rng, request, sender, date, "RE: ", ctype, "outlook.com"), body


def _outlook_html(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    signature = _signature(rng, request)
    html_lines = "".join(
        f'<p class="MsoNormal">{escape(line) or "&nbsp;"}</p>\n' for line in lines + signature
    )
    quote = "<br>\n".join(
        f"<b>{escape(line.split(':', 1)[0])}:</b>{escape(line.split(':', 1)[1])}"
        for line in _outlook_header_lines(request)
    )
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<style>p.MsoNormal{margin:0in;font-size:11pt}</style></head><body><div class=WordSection1>\n"
        f'{html_lines}<div style="border:none;border-top:solid #E1E1E1 1.0pt">'
        f'<p class="MsoNormal">{quote}</p></div>\n<p class="MsoNormal">{escape(request.request_subject)}</p>'
        "</div></body></html>\n"
    )
    plain = "\n".join([*lines, *signature, "", *_outlook_quote(request)])
    return _alternative(
        rng, request, sender, date, "RE: ", plain, html, "outlook.com", html_only=rng.random() < 0.3
    )


def _outlook_web(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    signature = _signature(rng, request)
    divs = "".join(f"<div>{escape(line) or '<br>'}</div>\n" for line in lines + signature)
    quote = "<br>".join(
        f"<b>{escape(line.split(':', 1)[0])}:</b>{escape(line.split(':', 1)[1])}"
        for line in _outlook_header_lines(request)
    )
    html = (
        f'<html><body dir="ltr">{divs}<div id="appendonsend"></div><hr style="width:98%">'
        f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri">{quote}</font></div>'
        f"<div>{escape(request.request_subject)}</div></body></html>\n"
    )
    ctype, body = encode_text(rng, html, ("utf-8", "iso-8859-1"), subtype="html")
    return header_block(rng, request, sender, date, "RE: ", ctype, "outlook.com"), body


def _gmail(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    signature = _signature(rng, request)
    when = _attribution_date(request)
    attribution = f"On {when} {request.request_from} wrote:"
    plain = "\n".join([*lines, *signature, "", *textwrap.wrap(attribution, 76), "", *_gt_quote(request)])
    divs = "".join(f"<div>{escape(line) or '<br>'}</div>" for line in lines + signature)
    html = (
        f'<div dir="ltr">{divs}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        f'{escape(attribution)}<br></div><blockquote class="gmail_quote">{escape(request.request_subject)}'
        "</blockquote></div>\n"
    )
    return _alternative(rng, request, sender, date, "Re: ", plain, html, "mail.gmail.com")


def _apple(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    sent = _sent(request)
    when = f"{sent:%b} {sent.day}, {sent.year}, at 8:00 AM"
    text = "\n".join(
        [
            *lines,
            *_signature(rng, request),
            "",
            f"> On {when}, {request.request_from} wrote:",
            ">",
            *_gt_quote(request),
        ]
    )
    ctype, body = encode_text(rng, text, ("utf-8",), prefer="quoted-printable")
    return header_block(rng, request, sender, date, "Re: ", ctype, "icloud.com"), body


def _iphone(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    sent = _sent(request)
    when = f"{sent:%b} {sent.day}, {sent.year}, at 8:00 AM"
    text = "\n".join(
        [
            *lines,
            "",
            "Sent from my iPhone",
            "",
            f"> On {when}, {request.request_from} wrote:",
            ">",
            *_gt_quote(request),
        ]
    )
    ctype, body = encode_text(rng, text, ("utf-8", "us-ascii"))
    return header_block(rng, request, sender, date, "Re: ", ctype, "icloud.com"), body


def _android(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    text = "\n".join(
        [*lines, "", "Get Outlook for Android", "________________________________", *_outlook_quote(request)]
    )
    ctype, body = encode_text(rng, text, ("utf-8",), prefer="base64")
    return header_block(rng, request, sender, date, "RE: ", ctype, "outlook.com"), body


def _thunderbird(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    text = "\n".join(
        [
            *lines,
            *_signature(rng, request),
            "",
            f"On {_sent(request):%m/%d/%y} 8:00 AM, {request.request_from} wrote:",
            *_gt_quote(request),
        ]
    )
    ctype, body = encode_text(rng, text, ("utf-8", "iso-8859-1"), prefer="8bit")
    return header_block(
        rng, request, sender, date, "Re: ", ctype + "; format=flowed", "thunderbird.net"
    ), body


def _lotus(
    rng: random.Random, request: ReplyRequest, sender: str, date: dt.datetime, lines: list[str]
) -> tuple[bytes, bytes]:
    text = "\n".join(
        [
            *lines,
            *_signature(rng, request),
            "",
            "",
            f'-----"{request.request_from}" wrote: -----',
            f"To: {request.email}",
            f"Subject: {request.request_subject}",
            "",
            request.request_subject,
        ]
    )
    ctype, body = encode_text(rng, text, ("us-ascii", "iso-8859-1"))
    return header_block(rng, request, sender, date, "Re: ", ctype, "notes.example.gov"), body


WRITERS = {
    "outlook": _outlook_plain,
    "outlook-html": _outlook_html,
    "outlook-web": _outlook_web,
    "gmail": _gmail,
    "apple-mail": _apple,
    "iphone": _iphone,
    "android": _android,
    "thunderbird": _thunderbird,
    "lotus-notes": _lotus,
}
CLIENTS = tuple(WRITERS)
CLIENT_WEIGHTS = (22, 20, 14, 12, 6, 12, 5, 4, 5)


def _outlook_header_lines(request: ReplyRequest) -> list[str]:
    return [
        f"From: {request.request_from}",
        f"Sent: {_sent(request):%A, %B} {_sent(request).day}, {_sent(request).year} 8:00 AM",
        f"To: {request.first_name} {request.last_name} <{request.email}>",
        f"Subject: {request.request_subject}",
    ]


def _outlook_quote(request: ReplyRequest) -> list[str]:
    return ["________________________________", *_outlook_header_lines(request), "", request.request_subject]


def _gt_quote(request: ReplyRequest) -> list[str]:
    return [f"> {request.request_subject}", ">", "> Reply to this message with up to 5 bullets."]


def _attribution_date(request: ReplyRequest) -> str:
    sent = _sent(request)
    return f"{sent:%a, %b} {sent.day}, {sent.year} at 8:00 AM"


def _sent(request: ReplyRequest) -> dt.datetime:
    """When the request went out, as the quoted header shows it: the Friday before a Monday deadline."""
    return request.due_at - REQUEST_LEAD


# Headers and encodings


def header_block(
    rng: random.Random,
    request: ReplyRequest,
    sender: str,
    date: dt.datetime,
    prefix: str,
    content_type: str,
    id_domain: str,
    subject: str | None = None,
    extra: str = "",
) -> bytes:
    name = f"{request.first_name} {request.last_name}"
    display = name if name.isascii() else _encoded_word(name)
    lines = [
        f"From: {display} <{sender}>",
        f"To: {request.reply_address}",
        f"Subject: {subject or prefix + request.request_subject}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{rng.getrandbits(64):016x}.{request.assignment_id}@{id_domain}>",
        f"In-Reply-To: {request.request_message_id}",
        f"References: {request.request_message_id}",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
    ]
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


_MAX_LINE = 998


def encode_text(
    rng: random.Random,
    text: str,
    charsets: tuple[str, ...],
    subtype: str = "plain",
    prefer: str | None = None,
) -> tuple[str, bytes]:
    """The Content-Type value and the transfer-encoding header, blank line and encoded body (CRLF)."""
    charset = rng.choice(charsets)
    try:
        data = text.encode(charset)
    except UnicodeEncodeError:
        charset, data = "utf-8", text.encode("utf-8")
    encoding = prefer or rng.choice(("7bit", "quoted-printable", "base64", "8bit"))
    if encoding == "7bit" and not data.isascii():
        encoding = "quoted-printable"
    if encoding in ("7bit", "8bit") and max(map(len, data.split(b"\n"))) > _MAX_LINE:
        # RFC 5322 2.1.1: a line is at most 998 characters; mail clients then switch to an encoding that
        # wraps (an HTML body written on one line, say), and SMTP servers refuse longer lines.
        encoding = "quoted-printable"
    data = data.replace(b"\n", b"\r\n")
    if encoding == "base64":
        payload = base64.encodebytes(data).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable":
        payload = quopri.encodestring(data.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    else:
        payload = data
    header = f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode("ascii")
    return f"text/{subtype}; charset={charset}", header + payload


def _alternative(
    rng: random.Random,
    request: ReplyRequest,
    sender: str,
    date: dt.datetime,
    prefix: str,
    plain: str,
    html: str,
    id_domain: str,
    html_only: bool = False,
) -> tuple[bytes, bytes]:
    if html_only:
        ctype, body = encode_text(rng, html, ("utf-8",), subtype="html")
        return header_block(rng, request, sender, date, prefix, ctype, id_domain), body
    boundary = f"000000000000{rng.getrandbits(48):012x}"
    plain_type, plain_body = encode_text(rng, plain, ("utf-8",))
    html_type, html_body = encode_text(rng, html, ("utf-8",), subtype="html")
    body = (
        b"\r\n--"
        + boundary.encode()
        + b"\r\nContent-Type: "
        + plain_type.encode()
        + b"\r\n"
        + plain_body
        + b"\r\n--"
        + boundary.encode()
        + b"\r\nContent-Type: "
        + html_type.encode()
        + b"\r\n"
        + html_body
        + b"\r\n--"
        + boundary.encode()
        + b"--\r\n"
    )
    ctype = f'multipart/alternative; boundary="{boundary}"'
    return header_block(rng, request, sender, date, prefix, ctype, id_domain), b"\r\n" + body


def escape(text: str) -> str:
    # Mail clients escape markup characters but leave quotes alone.
    return _escape(text, quote=False)

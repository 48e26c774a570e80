"""Hardened reading of MIME structure, transfer encodings, charsets and headers on top of the stdlib parser
(`policy.compat32`, about eight times faster than `policy.default` here). Pure functions: every repair is
noted in a list of defects instead of raising."""

from __future__ import annotations

import binascii
import codecs
import functools
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.header import decode_header
from email.message import Message
from email.policy import compat32

# Enough for any real reply; a hostile message with thousands of nested parts is cut, not walked.
MAX_DEPTH = 12
MAX_PARTS = 200
# Header values past this are cut before any regular expression sees them.
MAX_HEADER = 16_384

_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.MULTILINE)
_ENCODED_WORD = "=?"

# Names mail software declares that Python's codecs do not know, and the WHATWG rule that a declared
# latin-1 / us-ascii is read as windows-1252 (what the sending client meant, curly quotes included).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "x-user-defined": "cp1252",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
# Charsets whose bytes are all ASCII yet are not ASCII text.
_SEVEN_BIT_ENCODINGS = ("iso2022", "utf-7", "hz")
_SINGLE_BYTE_WESTERN = {"cp1252", "iso8859-15", "iso8859-1", "mac-roman"}


@dataclass(frozen=True, slots=True)
class Leaf:
    """One non-multipart part, in document order, with where it sits."""

    part: Message
    content_type: str
    inside_alternative: bool
    depth: int


def read_message(raw: bytes, defects: list[str]) -> Message:
    """The parsed message; a multipart whose boundary is missing is re-read with the one its body uses."""
    message = message_from_bytes(raw, policy=compat32)
    if message.get_content_maintype() == "multipart" and not message.is_multipart():
        repaired = _with_found_boundary(message, defects)
        if repaired is not None:
            return repaired
    return message


def _with_found_boundary(message: Message, defects: list[str]) -> Message | None:
    body = payload_bytes(message, defects, decode=False)
    declared = message.get_boundary()
    found = _BOUNDARY_LINE.search(body)
    if found is None:
        defects.append("multipart without parts")
        return None
    boundary = found.group(1).decode("ascii")
    if declared and boundary.rstrip("-") == declared:
        return None
    defects.append("missing boundary" if not declared else "wrong boundary")
    message.set_boundary(boundary) if declared else message.set_param("boundary", boundary)
    header_end = _header_end(message)
    return message_from_bytes(header_end + body, policy=compat32)


def _header_end(message: Message) -> bytes:
    lines = [f"{name}: {value}" for name, value in message.raw_items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def leaves(message: Message, defects: list[str]) -> Iterator[Leaf]:
    """Every non-multipart part in document order. Attached messages (message/rfc822) are one leaf, not
    walked: a forwarded message's text is not the sender's answer."""
    count = 0
    stack: list[tuple[Message, bool, int]] = [(message, False, 0)]
    while stack:
        part, in_alternative, depth = stack.pop()
        count += 1
        if count > MAX_PARTS:
            defects.append(f"more than {MAX_PARTS} parts; the rest ignored")
            return
        content_type = part.get_content_type()
        payload = part.get_payload()
        if isinstance(payload, list) and not content_type.startswith("message/"):
            if depth >= MAX_DEPTH:
                defects.append(f"multipart nested deeper than {MAX_DEPTH}; the rest ignored")
                continue
            alternative = in_alternative or content_type == "multipart/alternative"
            stack.extend((child, alternative, depth + 1) for child in reversed(payload))
            continue
        if content_type.startswith("multipart/"):
            # The parser found no parts in it: read what is there as text.
            content_type = "text/plain"
        yield Leaf(part, content_type, in_alternative, depth)


def payload_bytes(part: Message, defects: list[str], decode: bool = True) -> bytes:
    """The part's body as bytes, transfer encoding undone when `decode`; broken base64 is repaired by
    dropping what is not base64 and the incomplete final group."""
    # The raw payload: get_payload() would decode 8-bit text with the declared charset, replacing
    # what does not fit, before we could choose a better one.
    payload = part._payload
    if isinstance(payload, list):
        return b""
    data = payload.encode("ascii", "surrogateescape") if isinstance(payload, str) else bytes(payload or b"")
    if not decode:
        return data
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":
        return _base64(data, defects)
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


def _base64(data: bytes, defects: list[str]) -> bytes:
    try:
        return binascii.a2b_base64(data.translate(None, b"\r\n\t "), strict_mode=True)
    except binascii.Error:
        pass
    defects.append("bad base64")
    cleaned = _BASE64_JUNK.sub(b"", data.split(b"=", 1)[0])
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4 if len(cleaned) % 4 == 1 else len(cleaned)]
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned)
    except binascii.Error:
        return b""


def encoded_size(part: Message) -> int:
    """An attachment's decoded size, estimated from its encoded length: attachments are never decoded."""
    payload = part._payload
    if isinstance(payload, list):
        return sum(encoded_size(child) for child in payload if isinstance(child, Message))
    length = len(payload) if isinstance(payload, str | bytes) else 0
    if str(part.get("content-transfer-encoding", "")).strip().lower() == "base64":
        return length * 3 // 4 - length // 76 * 2 * 3 // 4
    return length


@functools.lru_cache(maxsize=256)
def codec_for(charset: str | None) -> str | None:
    """The Python codec for a declared charset, or None when it is unknown."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a name with a NUL in it
        return None


def decode_text(data: bytes, charset: str | None, defects: list[str]) -> str:
    """Text from bytes under the declared charset; a missing, unknown or wrong charset falls back to UTF-8,
    then windows-1252, which decodes anything."""
    codec = codec_for(charset)
    if data.isascii() and (codec is None or not codec.startswith(_SEVEN_BIT_ENCODINGS)):
        return data.decode("ascii")
    if codec in _SINGLE_BYTE_WESTERN:
        # Any bytes decode as windows-1252, so a wrong declaration would go unnoticed; but text that is
        # valid UTF-8 with non-ASCII in it is, in practice, never latin-1 that happens to look like it.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode(codec, errors="replace")
        defects.append(f"declared charset {charset[:40]}, text is UTF-8")
        return text
    if codec is not None:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            defects.append(f"text not in its declared charset {charset[:40]}")
    elif charset:
        defects.append(f"unknown charset {charset[:40]}")
    else:
        defects.append("8-bit text without a charset")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def header_text(value: object, defects: list[str]) -> str:
    """A header as text: RFC 2047 encoded words decoded, raw 8-bit bytes read as UTF-8 or windows-1252,
    folding removed."""
    if value is None:
        return ""
    text = str(value)[:MAX_HEADER]
    if _ENCODED_WORD in text:
        text = _decode_words(text, defects)
    elif not text.isascii():
        text = decode_text(text.encode("utf-8", "surrogateescape"), "utf-8", defects)
    return " ".join(text.split())


def _decode_words(text: str, defects: list[str]) -> str:
    try:
        chunks = decode_header(text)
    except (ValueError, binascii.Error, AssertionError):
        defects.append("bad encoded header")
        return text
    pieces: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            pieces.append(chunk)
            continue
        pieces.append(decode_text(chunk, charset, defects))
    return "".join(pieces)


class Headers:
    """A message's headers as the bytes gave them (8-bit bytes as surrogate escapes, not replaced the way
    `Message.get` does), looked up by lower-case name, each value cut to MAX_HEADER."""

    __slots__ = ("_values",)

    def __init__(self, message: Message) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            text = value if isinstance(value, str) else str(value)
            self._values.setdefault(name.lower(), []).append(text[:MAX_HEADER])

    def __bool__(self) -> bool:
        return bool(self._values)

    def get(self, name: str) -> str | None:
        """The first (topmost) value of a header, or None."""
        values = self._values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])

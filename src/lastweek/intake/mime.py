"""Hardened decoding of what the MIME structure holds: transfer encodings (broken base64 repaired),
charsets (missing, unknown or wrong ones fall back sensibly), and header text (RFC 2047 words, raw
8-bit bytes). Pure functions: every repair is noted in a list of defects instead of raising."""

from __future__ import annotations

import binascii
import codecs
import functools
import quopri
import re
from email.header import decode_header

from lastweek.intake.structure import MAX_HEADER, Part

_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
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


def payload_bytes(part: Part, defects: list[str]) -> bytes:
    """The part's body with its transfer encoding undone; broken base64 is repaired by dropping what is
    not base64 and the incomplete final group."""
    encoding = (part.headers.get("content-transfer-encoding") or "").strip().lower()
    if encoding == "base64":
        return _base64(part.body, defects)
    if encoding == "quoted-printable":
        return quopri.decodestring(part.body)
    return part.body


def _base64(data: bytes, defects: list[str]) -> bytes:
    try:
        return binascii.a2b_base64(data.translate(None, b"\r\n\t "), strict_mode=True)
    except binascii.Error:
        pass
    defects.append("bad base64")
    cleaned = _BASE64_JUNK.sub(b"", data.split(b"=", 1)[0])
    if len(cleaned) % 4 == 1:  # six bits left over make no byte
        cleaned = cleaned[:-1]
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned)
    except binascii.Error:
        return b""


def encoded_size(part: Part) -> int:
    """An attachment's decoded size, estimated from its encoded length: attachments are never decoded."""
    length = len(part.body)
    if (part.headers.get("content-transfer-encoding") or "").strip().lower() == "base64":
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

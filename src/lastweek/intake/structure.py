"""The MIME structure of a message: headers, parts and their bodies, split with byte operations.

Why not `email.message_from_bytes`: its feed parser walks the message line by line in Python and
compiles a regular expression for every multipart boundary it meets (all of them unique), and its
`Message` accessors re-parse a header on every call. Measured here on 1.3 kB synthetic replies, that
was most of the time spent per message (bench/parse.py prints both). Splitting at the header/body
blank line and at boundary lines with `bytes.find` is several times faster and gives the same parts.
The stdlib still decodes everything inside them: RFC 2047 words, dates, quoted-printable, base64.

Total on any input: what does not parse as a header ends the header block, a multipart without a
usable boundary is searched for the boundary its body uses, and failing that read as text. Each
repair is noted in `defects`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

# Enough for any real reply; a hostile message with thousands of nested parts is cut, not walked.
MAX_DEPTH = 12
MAX_PARTS = 200
# Header values past this are cut before any regular expression sees them.
MAX_HEADER = 16_384
MAX_HEADERS = 1_000

# One field and its continuation lines; RFC 5322 names are printable ASCII except ":".
_FIELD = re.compile(r"([!-9;-~]+)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)")
_FIELDS = re.compile(r"(?:[!-9;-~]+[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*(?:\n|\Z))*")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("(?:\\.|[^"\\])*"?|[^;]*)')
_BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.MULTILINE)
_DEFAULT_TYPE = "text/plain"


class Headers:
    """Header fields in order, looked up by lower-case name. Values are as the bytes gave them: 8-bit
    bytes kept as surrogate escapes (so the right charset can be chosen later), folding removed, each
    cut to MAX_HEADER."""

    __slots__ = ("_values",)

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        """From (name, value) pairs as the header block holds them: folded, untrimmed, uncut."""
        values: dict[str, list[str]] = {}
        for name, value in fields[:MAX_HEADERS]:
            if "\n" in value:
                value = _UNFOLD.sub("", value)
            value = value.strip()[:MAX_HEADER]
            key = name.lower()
            found = values.get(key)
            if found is None:
                values[key] = [value]
            else:
                found.append(value)
        self._values = values

    def __bool__(self) -> bool:
        return bool(self._values)

    def get(self, name: str) -> str | None:
        """The first (topmost) value of a header, or None."""
        values = self._values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])


@dataclass(slots=True)
class Part:
    headers: Headers
    body: bytes  # still transfer-encoded
    content_type: str  # lower-case type/subtype
    params: dict[str, str]  # Content-Type parameters, lower-case names
    children: list[Part] = field(default_factory=list)

    @property
    def is_multipart(self) -> bool:
        return bool(self.children)

    def param(self, name: str) -> str | None:
        return self.params.get(name)


@dataclass(frozen=True, slots=True)
class Leaf:
    """One non-multipart part, in document order, with where it sits."""

    part: Part
    content_type: str
    inside_alternative: bool
    depth: int


def read_message(raw: bytes, defects: list[str]) -> Part:
    """The message as a tree of parts."""
    budget = [MAX_PARTS]
    return _read_part(raw, defects, 0, budget, top=True)


def leaves(message: Part, defects: list[str]) -> Iterator[Leaf]:
    """Every non-multipart part in document order. Attached messages (message/rfc822) are one leaf, not
    walked: a forwarded message's text is not the sender's answer."""
    stack: list[tuple[Part, bool, int]] = [(message, False, 0)]
    while stack:
        part, in_alternative, depth = stack.pop()
        if part.children:
            alternative = in_alternative or part.content_type == "multipart/alternative"
            stack.extend((child, alternative, depth + 1) for child in reversed(part.children))
            continue
        content_type = part.content_type
        if content_type.startswith("multipart/"):
            content_type = _DEFAULT_TYPE  # no parts found in it: read what is there as text
        yield Leaf(part, content_type, in_alternative, depth)


def filename(part: Part) -> str | None:
    """The attachment's name: Content-Disposition filename, else the Content-Type name."""
    disposition = part.headers.get("content-disposition")
    if disposition:
        name = parameters(disposition).get("filename")
        if name:
            return name
    return part.params.get("name")


def disposition(part: Part) -> str:
    value = part.headers.get("content-disposition") or ""
    return value.split(";", 1)[0].strip().lower()


def parameters(value: str) -> dict[str, str]:
    """The parameters of a structured header value (`type/subtype; name="value"; ...`), RFC 2231
    continuations (name*0, name*1) and charset'language'percent-encoding (name*=) included."""
    params: dict[str, str] = {}
    pieces: dict[str, list[tuple[int, str, bool]]] = {}
    for key, raw in _PARAM.findall(value[:MAX_HEADER]):
        key = key.lower()
        text = raw.strip()
        if text.startswith('"'):
            text = text[1:-1] if text.endswith('"') and len(text) > 1 else text[1:]
            text = text.replace('\\"', '"').replace("\\\\", "\\")
        name, star, rest = key.partition("*")
        if not star:
            params.setdefault(key, text)
            continue
        number = rest.rstrip("*")
        # name*= and name*0*= are charset'language'percent-encoded; name*1= is literal.
        encoded = rest == "" or rest.endswith("*")
        pieces.setdefault(name, []).append((int(number) if number.isdigit() else 0, text, encoded))
    for name, chunks in pieces.items():
        params[name] = _rfc2231(sorted(chunks))
    return params


def _rfc2231(chunks: list[tuple[int, str, bool]]) -> str:
    """One parameter from its continuations: percent-encoded ones decoded to bytes, literal ones kept,
    the whole read in the charset the first one names."""
    charset = "utf-8"
    data = b""
    for position, (_, text, encoded) in enumerate(chunks):
        if encoded and position == 0 and text.count("'") >= 2:
            charset, _, text = text.split("'", 2)
            charset = charset or "utf-8"
        # Bytes in, so a raw 8-bit byte in the header (kept as a surrogate) is decoded, not refused.
        raw = text.encode("utf-8", "surrogateescape")
        data += unquote_to_bytes(raw) if encoded else raw
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):  # an unknown charset name, or one with a NUL in it
        return data.decode("utf-8", errors="replace")


# Reading


def _read_part(data: bytes, defects: list[str], depth: int, budget: list[int], top: bool = False) -> Part:
    budget[0] -= 1
    fields, body = _split_head(data, defects, top)
    headers = Headers(fields)
    content_type, params = _content_type(headers.get("content-type"), defects)
    part = Part(headers, body, content_type, params)
    if content_type.startswith("multipart/"):
        if depth >= MAX_DEPTH:
            defects.append(f"multipart nested deeper than {MAX_DEPTH}; the rest ignored")
        elif budget[0] <= 0:
            defects.append(f"more than {MAX_PARTS} parts; the rest ignored")
        else:
            part.children = [
                _read_part(chunk, defects, depth + 1, budget) for chunk in _chunks(part, defects, budget)
            ]
    return part


def _split_head(data: bytes, defects: list[str], top: bool) -> tuple[list[tuple[str, str]], bytes]:
    """The header fields as written (Headers unfolds and cuts them) and the body. The header block ends
    at the first empty line, or at the first line that is neither a field nor a continuation (noted for
    a message, normal for a part)."""
    end = _blank_line(data)
    # ASCII with surrogate escapes maps each byte to one character, so text offsets are byte offsets.
    text = (data if end < 0 else data[: max(end - 1, 0)]).decode("ascii", "surrogateescape")
    # Where the run of fields from the start ends, then the fields in it: two scans in C rather than
    # one match per field from Python.
    position = _FIELDS.match(text).end()
    fields = _FIELD.findall(text, 0, position)
    if position >= len(text):
        return fields, _after_blank_line(data, end)
    if top:
        defects.append("header block ended without a blank line")
    return fields, data[position:]


def _blank_line(data: bytes) -> int:
    """Where the empty line that ends the header block starts (-1: none). A part may start with it."""
    if data.startswith((b"\r\n", b"\n")):
        return 0
    crlf = data.find(b"\n\r\n")
    lf = data.find(b"\n\n")
    if crlf < 0 or 0 <= lf < crlf:
        return lf + 1 if lf >= 0 else -1
    return crlf + 1


def _after_blank_line(data: bytes, start: int) -> bytes:
    if start < 0:
        return b""
    return data[start + 2 :] if data[start : start + 2] == b"\r\n" else data[start + 1 :]


def _content_type(value: str | None, defects: list[str]) -> tuple[str, dict[str, str]]:
    if not value:
        return _DEFAULT_TYPE, {}
    main = value.split(";", 1)[0].strip().lower()
    params = parameters(value) if ";" in value else {}
    if main.count("/") != 1 or " " in main:
        defects.append("unreadable Content-Type")
        return _DEFAULT_TYPE, params
    return main, params


def _chunks(part: Part, defects: list[str], budget: list[int]) -> list[bytes]:
    """The bodies of a multipart's parts, split at its boundary lines; a missing or wrong boundary is
    replaced by the one the body uses."""
    boundary = part.params.get("boundary", "").encode("ascii", "surrogateescape")
    chunks = _split_at(part.body, boundary) if boundary else None
    if chunks is None:
        found = _BOUNDARY_LINE.search(part.body)
        if found is None or found.group(1).rstrip(b"-") == boundary:
            defects.append("multipart without parts")
            return []
        defects.append("wrong boundary" if boundary else "missing boundary")
        boundary = found.group(1)
        chunks = _split_at(part.body, boundary) or []
    if len(chunks) > budget[0]:
        defects.append(f"more than {MAX_PARTS} parts; the rest ignored")
        chunks = chunks[: max(budget[0], 0)]
    return chunks


def _split_at(body: bytes, boundary: bytes) -> list[bytes] | None:
    """The parts between `--boundary` lines (None: not one such line). A missing close delimiter ends
    the last part at the end of the body, as the stdlib does."""
    delimiter = b"--" + boundary
    starts: list[tuple[int, int, bool]] = []  # (line start, content start, is close)
    search = 0
    while True:
        at = body.find(delimiter, search)
        if at < 0:
            break
        search = at + len(delimiter)
        if at and body[at - 1 : at] != b"\n":
            continue
        line_end = body.find(b"\n", search)
        rest = body[search : line_end if line_end >= 0 else len(body)]
        closing = rest.startswith(b"--")
        if rest.strip(b" \t\r") and not closing:
            continue  # a longer token that starts with the boundary
        starts.append((at, line_end + 1 if line_end >= 0 else len(body), closing))
        if closing:
            break
    if not starts:
        return None
    chunks = []
    for (_, content, closing), following in zip(starts, [*starts[1:], None], strict=True):
        if closing:
            break
        end = following[0] if following else len(body)
        chunk = body[content:end]
        # The line break before a delimiter belongs to the delimiter (RFC 2046).
        if following:
            chunk = chunk[:-2] if chunk.endswith(b"\r\n") else chunk[:-1] if chunk.endswith(b"\n") else chunk
        chunks.append(chunk)
    return chunks

"""Removing the quoted history under a reply: the header blocks and markers the common mail clients write
above the message they quote, forwarded blocks, and `>` quoting. Pure functions over text."""

from __future__ import annotations

import re

# A line that starts the quoted or forwarded history: everything from it down is not the new reply.
_HISTORY_LINE = r"""
        -{2,}\s*(?:original\s+message|ursprüngliche\s+nachricht|message\s+d'origine|mensaje\s+original)\s*-{2,}
      | -{2,}\s*forwarded\s+message\s*-{2,}
      | -{3,}\s*(?:forwarded|original)\s+(?:message|by)[^\n]*
      | begin\s+forwarded\s+message:
      | -{3,}[^\n]{0,200}\bwrote:?\s*-{3,}          # Lotus Notes: -----"Name" <a@b> wrote: -----
      # Lotus Notes: Name/Org wrote on 12/01/2026 09:00:00 AM:
      | [^\n]{1,200}\ wrote\ on\ \d{1,4}[./-]\d{1,2}[./-]\d{1,4}[^\n]{0,40}:
"""
# What a line may start, in one match per line (a regular expression call costs more than most of
# its matching): the history itself, the "From:" of an Outlook header block, or the first word of an
# attribution line. The last two are then confirmed by the lines that follow.
_LINE_START = re.compile(
    rf"""^\s*(?:
        (?P<history>{_HISTORY_LINE})\s*$
      | (?P<header>\*?(?:from|von|de|van)\s*:\*?\s)
      | (?P<attribution>(?:on|le|am|el|op|il)(?:\s|$))
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# "On Mon, Dec 1, 2026 at 9:00 AM Jane <jane@x.gov> wrote:" (Gmail, Apple, Thunderbird) may wrap over up to
# three lines; other languages' forms of it too.
_ATTRIBUTION = re.compile(
    r"^\s*(?:on|le|am|el|op|il)\s.{0,400}?(?:wrote|a\sécrit|schrieb|escribió|schreef|ha\sscritto)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# Outlook's header block: "From:" then, within a few lines, "Sent:" or "Date:" (bold in its HTML: *From:*).
_HEADER_SENT = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|envoyé|enviado|to|subject|cc)\s*:\*?\s", re.IGNORECASE
)
_HEADER_DATE = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|envoyé|enviado|subject|betreff|objet|asunto)\s*:", re.IGNORECASE
)
_RULE = re.compile(r"^\s*(?:_{8,}|-{8,})\s*$")
_QUOTED_LINE = re.compile(r"^\s*>")


def strip_quoted_reply(text: str) -> str:
    """The new text of a reply: cut at the first line where quoted or forwarded history starts, with the
    `>`-quoted lines left above it (interleaved quoting) removed too."""
    lines = text.split("\n")
    cut = _history_start(lines)
    kept = "\n".join(lines[:cut])
    if ">" in kept:
        kept = "\n".join(line for line in lines[:cut] if not _QUOTED_LINE.match(line))
    return kept.strip()


def _history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        start = _LINE_START.match(line)
        if start is None:
            continue
        kind = start.lastgroup
        if kind == "history":
            return _before_rule(lines, index)
        if kind == "header" and _header_block_follows(lines, index):
            return _before_rule(lines, index)
        if kind == "attribution" and _attribution_at(lines, index):
            return index
    return len(lines)


def _attribution_at(lines: list[str], index: int) -> bool:
    head = lines[index].lstrip()[:3].lower()
    if head[:2] not in {"on", "le", "am", "el", "op", "il"}:
        return False
    for end in range(index, min(index + 3, len(lines))):
        # A wrapped attribution runs over adjacent lines: a blank or quoted line ends it.
        if end > index and (not lines[end].strip() or lines[end].lstrip().startswith(">")):
            return False
        # It ends its last line with a colon: most lines are rejected without the regex.
        if not lines[end].rstrip().endswith(":"):
            continue
        candidate = "\n".join(lines[index : end + 1])
        # Every client puts the date in it; "On Friday the team wrote:" is part of an answer.
        if _ATTRIBUTION.match(candidate) and any(character.isdigit() for character in candidate):
            return True
    return False


def _header_block_follows(lines: list[str], index: int) -> bool:
    """An Outlook header block has Sent, Date or Subject within the next few non-empty lines, which
    are all header lines (a sentence starting "From: the field office..." is not followed by them)."""
    following = [line for line in lines[index + 1 : index + 8] if line.strip()][:4]
    headers = [line for line in following if _HEADER_SENT.match(line)]
    return any(_HEADER_DATE.match(line) for line in headers)


def _before_rule(lines: list[str], index: int) -> int:
    """Include the rule Outlook draws above its header block in what is cut."""
    previous = index - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    return previous if previous >= 0 and _RULE.match(lines[previous]) else index

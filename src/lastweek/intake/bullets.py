"""Bullets from the text of an answer. Pure functions.

A line with a mark ("-", "*", "•", "1.", "1)", "a)", "(a)") starts a bullet; lines under it without a mark
continue it (a wrapped line). Text without marks is read the way a person writes it: each line is an item
unless it is wrapped prose (a long line, or one followed by a lower-case start, that does not end a
sentence), so a paragraph of prose is one bullet and a list typed without marks is one per line. Greetings
("Hi Jane,") and introductions ending in a colon ("Last week I:") are not bullets."""

from __future__ import annotations

import itertools
import re

_MARK = re.compile(r"^\s*(?:[-*•◦▪·‣–—+]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\[[ x]\])\s+(?=\S)")
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening)|all|team|sir|ma'am)\b"
    r"[^.!?]{0,40}[,!:]?\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?;)\"'”]\s*$")
# Clients wrap plain text at 72 to 78 columns; a line that long without a full stop was wrapped.
_WRAP_WIDTH = 60


def extract_bullets(text: str) -> tuple[str, ...]:
    """Every bullet in the text, in order, whitespace normalised; none for empty text."""
    bullets: list[str] = []
    for paragraph in _paragraphs(text):
        bullets.extend(_paragraph_bullets(paragraph))
    return tuple(bullet for bullet in bullets if bullet)


def _paragraphs(text: str) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if paragraph]


def _paragraph_bullets(lines: list[str]) -> list[str]:
    while lines and _is_preamble(lines[0], lines[1] if len(lines) > 1 else ""):
        lines = lines[1:]
    if not lines:
        return []
    if any(_MARK.match(line) for line in lines):
        return _marked(lines)
    bullets = [lines[0]]
    for previous, line in itertools.pairwise(lines):
        if _wraps_into(previous, line):
            bullets[-1] += " " + line
        else:
            bullets.append(line)
    return [_clean(bullet) for bullet in bullets]


def _wraps_into(previous: str, line: str) -> bool:
    """Whether `line` continues the sentence on `previous` (wrapped prose) rather than starting an item:
    the previous line does not end a sentence, and is long enough to have been wrapped or is followed
    by a line starting in lower case."""
    if _SENTENCE_END.search(previous):
        return False
    first = line.lstrip()[:1]
    return len(previous.rstrip()) >= _WRAP_WIDTH or not first.isupper()


def _marked(lines: list[str]) -> list[str]:
    bullets: list[str] = []
    for line in lines:
        mark = _MARK.match(line)
        if mark:
            bullets.append(line[mark.end() :])
        elif bullets:
            bullets[-1] += " " + line
        else:
            bullets.append(line)
    return [_clean(bullet) for bullet in bullets]


def _is_preamble(line: str, following: str) -> bool:
    """A greeting, or an introduction ending in a colon ("Last week I:"), unless the next line goes on
    with the same sentence (prose wrapped just after a colon)."""
    stripped = line.strip()
    if _GREETING.match(stripped):
        return True
    if not stripped.endswith(":") or _MARK.match(line):
        return False
    next_start = following.lstrip()[:1]
    return not next_start or not next_start.islower() or bool(_MARK.match(following))


def _clean(text: str) -> str:
    return " ".join(text.split())  # str.split() and \s agree on white space; faster than a regex

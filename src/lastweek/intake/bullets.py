"""Bullets from the text of an answer. Pure functions.

A line with a mark ("-", "*", "•", "1.", "1)", "a)", "(a)") starts a bullet; lines under it without a mark
continue it (a wrapped line). Text without marks is read the way a person writes it: a paragraph whose
lines each end a sentence is one bullet per line; a paragraph of wrapped prose is one bullet. Greetings
("Hi Jane,") and introductions ending in a colon ("Last week I:") are not bullets."""

from __future__ import annotations

import re

_MARK = re.compile(r"^\s*(?:[-*•◦▪·‣–—+]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\[[ x]\])\s+(?=\S)")
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening)|all|team|sir|ma'am)\b"
    r"[^.!?]{0,40}[,!:]?\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?;)\"'”]\s*$")
_SPACE = re.compile(r"\s+")


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
    while lines and _is_preamble(lines[0]):
        lines = lines[1:]
    if not lines:
        return []
    if any(_MARK.match(line) for line in lines):
        return _marked(lines)
    if len(lines) > 1 and all(_SENTENCE_END.search(line) for line in lines[:-1]):
        return [_clean(line) for line in lines]
    return [_clean(" ".join(lines))]


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


def _is_preamble(line: str) -> bool:
    stripped = line.strip()
    return bool(_GREETING.match(stripped)) or (stripped.endswith(":") and not _MARK.match(line))


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()

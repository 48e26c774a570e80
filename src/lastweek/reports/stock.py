"""Recognising a directive's sanctioned stock answers ("All of my activities are sensitive.") the same way in
every channel. Pure functions."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
# A bullet marker someone may have typed in front of the sentence.
_MARKER = re.compile(r"^(?:[-*•]|\d+[.)])\s+")


def normalize_answer(text: str) -> str:
    """The comparable form of an answer: same letters and words, whatever the case, spacing, curly quotes,
    a leading bullet mark or a final full stop."""
    if not text.isascii():  # ASCII is its own NFKC form and holds no curly quotes: most answers
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    # str.split() and the regular expression \s agree on what is white space (str.isspace).
    text = _MARKER.sub("", " ".join(text.split()))
    return text.rstrip(" .!").casefold()


def match_stock_answer(text: str, answers: Iterable[T], key=lambda answer: answer.text) -> T | None:
    """The stock answer `text` is, if it is exactly one of them once normalised; else None."""
    wanted = normalize_answer(text)
    if not wanted:
        return None
    return next((answer for answer in answers if _normalized_stock(key(answer)) == wanted), None)


def stock_table(answers: Iterable[T], key=lambda answer: answer.text) -> dict[str, T]:
    """The answers by their normalised text, the first of equals kept: for many answers compared with
    the same stock, `table.get(normalize_answer(text))` is `match_stock_answer(text, answers, key)`."""
    table: dict[str, T] = {}
    for answer in answers:
        table.setdefault(_normalized_stock(key(answer)), answer)
    table.pop("", None)  # an empty answer matches nothing
    return table


@functools.lru_cache(maxsize=1_024)
def _normalized_stock(text: str) -> str:
    # A directive has a few stock answers, compared with every answer of a batch: normalised once.
    return normalize_answer(text)

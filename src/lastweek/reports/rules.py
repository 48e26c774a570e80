"""The rules of recording an answer, as pure functions over plain facts: whether the week takes answers,
what the bullets must be, on time or late, whether it is a stock answer, which answer counts, and the
receipt. `submit()` (one answer) and `submit_many()` (a batch) both decide through these, so a rule is
written once; they only gather the facts and store the outcome. No Django, no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from lastweek.reports.stock import normalize_answer

T = TypeVar("T")

# How an answer stands against another for counting: (on time, received at). Tuples compare in order,
# so on time beats late, then the later received wins.
Standing = tuple[bool, dt.datetime]


class SubmissionError(Exception):
    """An answer that was not recorded. `code` is stable for programs; the message is for people."""

    def __init__(self, code: str, message: str, field: str = "bullets") -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


# The modes whose people are asked (directives.models.ASKED_MODES, as plain strings: no Django here).
_ASKED = frozenset({"required", "voluntary"})


@dataclass(frozen=True)
class Receipt:
    report_id: int
    receipt_code: str
    cycle_id: int
    week: str
    received_at: dt.datetime
    on_time: bool
    is_current: bool
    bullets: int
    stock_answer: str | None
    exceeds_max_bullets: bool
    duplicate: bool = False
    # False for a paused or exempt person's answer: kept as a voluntary one, it never counts for or
    # against them.
    asked: bool = True

    @property
    def message(self) -> str:
        if not self.asked:
            return (
                f"Answer for {self.week} received; receipt {self.receipt_code}. You are not asked this week, "
                "so it is kept as a voluntary answer and never counts for or against you."
            )
        timing = "on time" if self.on_time else "late"
        counted = "" if self.is_current else " An earlier on-time answer still counts."
        return f"Answer for {self.week} received {timing}; receipt {self.receipt_code}.{counted}"


def check_open(week: str, closed: bool, closes_at: dt.datetime, received_at: dt.datetime) -> None:
    """Refuse an answer the week does not take: the week is closed (or past its closing time).

    Everyone in the week may answer while it is open: a required or voluntary person as asked, and a
    paused or exempt one too, whose answer is kept as a voluntary one that never counts for or against
    them (`asked()` is false for them)."""
    # Past its closing time a week is closed, whether or not the schedule has marked it yet.
    if closed or received_at > closes_at:
        raise SubmissionError("closed", f"Week {week} is closed; answers are no longer taken.")


def asked(mode: str) -> bool:
    """Whether a person in this mode is asked (required or voluntary); a paused or exempt person's
    answer is taken, but as a voluntary one outside every figure."""
    return mode in _ASKED


def answer_texts(bullets: Iterable[str]) -> list[str]:
    """The bullets as stored: each stripped, the blank ones left out. Refuses an answer with none."""
    texts = [text.strip() for text in bullets if text and text.strip()]
    if not texts:
        raise SubmissionError("empty", "The answer is empty: write at least one bullet.")
    return texts


def check_limits(texts: Sequence[str], max_bullets: int, max_length: int, strict: bool) -> bool:
    """Whether the answer has more bullets than the directive allows (the report's flag).

    `strict` (web, API) refuses that, and a bullet over `max_length` characters, naming its position;
    otherwise (email, which cannot be edited) both are kept."""
    too_many = len(texts) > max_bullets
    if not strict:
        return too_many
    if too_many:
        raise SubmissionError(
            "too_many_bullets", f"{len(texts)} bullets: at most {max_bullets}. Combine or remove some."
        )
    for position, text in enumerate(texts, start=1):
        if len(text) > max_length:
            raise SubmissionError(
                "bullet_too_long",
                f"Bullet {position} has {len(text)} characters: at most {max_length}. Shorten it.",
                field=f"bullets.{position}",
            )
    return False


def is_on_time(received_at: dt.datetime, due_at: dt.datetime | None) -> bool:
    """On time when received by the person's own due time (the cycle's deadline, or their zone's, or
    later after leave); always, when there is none (on leave, return not yet known)."""
    return due_at is None or received_at <= due_at


def stock_answer(texts: Sequence[str], table: Mapping[str, T]) -> T | None:
    """The directive's stock answer the whole answer is, looked up in `table` (`stock.stock_table()`
    of the directive's stock answers); None when it is none of them."""
    if not table:  # most directives have none: no need to normalise the text
        return None
    return table.get(normalize_answer(" ".join(texts)))


def takes_over(answer: Standing, current: Standing | None) -> bool:
    """Whether a new answer becomes the one that counts instead of `current`, the one counting until now
    (None: none yet). Every answer is kept; the one that counts is the latest on-time answer, or, when
    there is none, the latest late one. Of two received at the same instant, the one recorded last."""
    return current is None or answer >= current


class StoredReport(Protocol):
    """What a receipt reads of a stored report (a `Report` with its cycle and stock answer loaded)."""

    pk: Any
    receipt_code: str
    cycle_id: int
    cycle: Any  # its `week`
    received_at: dt.datetime
    on_time: bool
    is_current: bool
    stock_answer_id: int | None
    stock_answer: Any  # its `text`
    exceeds_max_bullets: bool


def stored_receipt(report: StoredReport, bullets: int, duplicate: bool = False) -> Receipt:
    """The receipt of a stored answer with `bullets` bullets; `duplicate` when it is handed out again
    for the same source message submitted once more (stored once, receipted as it stands now)."""
    return Receipt(
        report_id=report.pk,
        receipt_code=report.receipt_code,
        cycle_id=report.cycle_id,
        week=report.cycle.week,
        received_at=report.received_at,
        on_time=report.on_time,
        is_current=report.is_current,
        bullets=bullets,
        stock_answer=report.stock_answer.text if report.stock_answer_id else None,
        exceeds_max_bullets=report.exceeds_max_bullets,
        duplicate=duplicate,
    )

"""The status of an assignment and the rates built from statuses: the rule lives here and only here.

An assignment's status, at the moment `now` it is asked, in this order:
1. paused: the person's organization paused the request (mode paused). Not asked; never counted.
2. exempt: the person is exempt (an agency/unit policy or an individual exemption). Never counted.
3. voluntary answered / voluntary not answered (mode voluntary): never counted as non-compliance.
4. Required, with a current answer: on time when it arrived by the person's own deadline, else late.
5. Required, no answer, own deadline not passed yet (or not known yet): on leave when the person is on
   leave (their deadline moved to after their return), else not yet due.
6. Required, no answer, own deadline passed: bounced when the request mail bounced (the address is
   failing), else auto-reply only when only an automatic reply (out of office) came back, else missing.

The compliance rate counts only required assignments whose own deadline has passed ("due"):
    compliance rate = (on time + late) / due        on-time rate = on time / due
where due = required assignments with due_at ≤ now, answered or not. An answer sent before its
deadline is shown as on time at once but enters the rates only when the deadline passes, so the rate
of an open week never looks better than it will be. Paused, exempt, voluntary, not yet due and on
leave are outside both numerator and denominator.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import FilteredRelation, Q, QuerySet
from django.db.models import TextChoices as _TextChoices

from lastweek.directives.models import Assignment, Cycle, Mode


class Status(_TextChoices):
    ON_TIME = "on_time", "On time"
    LATE = "late", "Late"
    MISSING = "missing", "Missing"
    AUTO_REPLY = "auto_reply", "Auto-reply only"
    BOUNCED = "bounced", "Bounced"
    NOT_YET_DUE = "not_yet_due", "Not yet due"
    ON_LEAVE = "on_leave", "On leave"
    EXEMPT = "exempt", "Exempt"
    PAUSED = "paused", "Paused"
    VOLUNTARY_ANSWERED = "voluntary_answered", "Voluntary, answered"
    VOLUNTARY_NOT_ANSWERED = "voluntary_not_answered", "Voluntary, not answered"


# Required assignments past their deadline that have no answer: what "non-compliance" means.
NOT_ANSWERED = (Status.MISSING, Status.AUTO_REPLY, Status.BOUNCED)


def classify(
    *,
    mode: str,
    answer: str,
    on_leave: bool,
    auto_reply: bool,
    bounced: bool,
    due_at: dt.datetime | None,
    now: dt.datetime,
) -> Status:
    """The status, by the rule in the module docstring. `answer` is "on_time", "late" or ""."""
    if mode == Mode.PAUSED:
        return Status.PAUSED
    if mode == Mode.EXEMPT:
        return Status.EXEMPT
    if mode == Mode.VOLUNTARY:
        return Status.VOLUNTARY_ANSWERED if answer else Status.VOLUNTARY_NOT_ANSWERED
    if answer:
        return Status.ON_TIME if answer == "on_time" else Status.LATE
    if due_at is None or due_at > now:
        return Status.ON_LEAVE if on_leave else Status.NOT_YET_DUE
    if bounced:
        return Status.BOUNCED
    return Status.AUTO_REPLY if auto_reply else Status.MISSING


def is_due(*, mode: str, answer: str, due_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether an assignment enters the rates: required, and its own deadline has passed."""
    if mode != Mode.REQUIRED:
        return False
    return answer == "late" or (due_at is not None and due_at <= now)


@dataclass
class Counts:
    """Assignments by status, with the two rates; add them up with `+=`."""

    by_status: Counter = field(default_factory=Counter)
    due: int = 0
    answered_due: int = 0
    on_time_due: int = 0

    def add(
        self,
        *,
        mode: str,
        answer: str,
        on_leave: bool,
        auto_reply: bool,
        bounced: bool,
        due_at: dt.datetime | None,
        now: dt.datetime,
        count: int = 1,
    ) -> None:
        status = classify(
            mode=mode,
            answer=answer,
            on_leave=on_leave,
            auto_reply=auto_reply,
            bounced=bounced,
            due_at=due_at,
            now=now,
        )
        self.by_status[status] += count
        if is_due(mode=mode, answer=answer, due_at=due_at, now=now):
            self.due += count
            if answer:
                self.answered_due += count
            if answer == "on_time":
                self.on_time_due += count

    def __iadd__(self, other: Counts) -> Counts:
        self.by_status.update(other.by_status)
        self.due += other.due
        self.answered_due += other.answered_due
        self.on_time_due += other.on_time_due
        return self

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def compliance_rate(self) -> float | None:
        """Answered (on time or late) over due; None while nothing is due."""
        return self.answered_due / self.due if self.due else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time_due / self.due if self.due else None

    @property
    def not_answered(self) -> int:
        return sum(self.by_status[status] for status in NOT_ANSWERED)

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "due": self.due,
            "answered_due": self.answered_due,
            "compliance_rate": self.compliance_rate,
            "on_time_rate": self.on_time_rate,
            "by_status": {status.value: self.by_status[status] for status in Status},
        }


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One assignment of a cycle with its status, as `status_table` yields it."""

    assignment_id: int
    cycle_id: int
    week: str
    employee_id: int
    employee_number: str
    first_name: str
    last_name: str
    agency_code: str
    unit_id: int
    unit_name: str
    manager_id: int | None
    mode: str
    reason: str
    status: Status
    due_at: dt.datetime | None
    report_id: int | None
    received_at: dt.datetime | None
    channel: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


_ROW_FIELDS = (
    "id",
    "cycle_id",
    "cycle__week",
    "employee_id",
    "employee__employee_number",
    "employee__first_name",
    "employee__last_name",
    "agency__code",
    "unit_id",
    "unit__name",
    "manager_id",
    "mode",
    "reason",
    "due_at",
    "on_leave",
    "auto_reply_at",
    "bounced_at",
    "current__id",
    "current__on_time",
    "current__received_at",
    "current__channel",
)


def with_current_report(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """Assignments left-joined to their current report (the answer compliance counts), as `current`."""
    return assignments.annotate(current=FilteredRelation("reports", condition=Q(reports__is_current=True)))


def status_rows(
    assignments: QuerySet[Assignment], now: dt.datetime, chunk_size: int = 5_000, stream: bool = True
) -> Iterator:
    """Stream `assignments` as StatusRows, in assignment order, through a server-side cursor on
    PostgreSQL (constant memory however many there are). `stream` false reads them in one go, which
    saves the cursor's round trips when they are known to be few."""
    query = with_current_report(assignments).order_by("id").values_list(*_ROW_FIELDS)
    for row in query.iterator(chunk_size=chunk_size) if stream else query:
        yield _status_row(row, now)


def _status_row(row: tuple, now: dt.datetime) -> StatusRow:
    (aid, cycle_id, week, eid, number, first, last, agency, unit_id, unit_name, manager_id, mode, reason,
     due_at, on_leave, auto_reply_at, bounced_at, report_id, on_time, received_at, channel) = row  # fmt: skip
    answer = "" if report_id is None else ("on_time" if on_time else "late")
    status = classify(
        mode=mode,
        answer=answer,
        on_leave=on_leave,
        auto_reply=auto_reply_at is not None,
        bounced=bounced_at is not None,
        due_at=due_at,
        now=now,
    )
    return StatusRow(
        aid, cycle_id, week, eid, number, first, last, agency, unit_id, unit_name, manager_id, mode,
        reason, status, due_at, report_id, received_at, channel or "",
    )  # fmt: skip


def status_table(
    cycle: Cycle, *, now: dt.datetime | None = None, where: Q | None = None, stream: bool = True
) -> Iterator:
    """Every assignment of `cycle` (optionally only those matching `where`) with its status at `now`."""
    from django.utils import timezone

    assignments = Assignment.objects.filter(cycle=cycle)
    if where is not None:
        assignments = assignments.filter(where)
    return status_rows(assignments, now or timezone.now(), stream=stream)


def count_rows(rows: Iterable[StatusRow], now: dt.datetime) -> Counts:
    """Counts over status rows computed live (for small populations, such as one manager's line)."""
    counts = Counts()
    for row in rows:
        answer = "" if row.report_id is None else ("late" if row.status == Status.LATE else "on_time")
        counts.by_status[row.status] += 1
        if is_due(mode=row.mode, answer=answer, due_at=row.due_at, now=now):
            counts.due += 1
            counts.answered_due += bool(answer)
            counts.on_time_due += answer == "on_time"
    return counts

"""`submit_many()`: many answers through the `rules` of `submit()`, in a few statements, not a few per answer.

For the batch paths (mailbox import, the SMTP worker), where one `submit()` per message costs a dozen
queries. The result is the rows `submit()` would write for the same answers submitted one after another
in the same order (tests/reports/test_submit_many.py compares the two): the same validation and
refusals, deadline rule, stock answers, flags, is_current, receipts, idempotency per source message,
and its `assignments_changed` signal inside the transaction (once, with every cycle and unit of the batch).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from lastweek.codes import crockford_code
from lastweek.directives.models import Assignment, Cycle, Directive
from lastweek.directives.signals import assignments_changed
from lastweek.reports.actions import REPORT_COLUMNS, stock_tables, submit
from lastweek.reports.models import Bullet, Channel, Report
from lastweek.reports.rules import (
    Receipt,
    Standing,
    SubmissionError,
    answer_texts,
    asked,
    check_limits,
    check_open,
    is_on_time,
    stock_answer,
    stored_receipt,
    takes_over,
)
from lastweek.rows import ModelColumns, array_placeholder, id_filter, write_rows

try:  # what a COPY raises on a duplicate: the driver's own error, not Django's wrapper
    from psycopg import IntegrityError as DatabaseIntegrityError
except ImportError:  # pragma: no cover
    DatabaseIntegrityError = IntegrityError

# The states the rules are told of, as plain strings: reading an enum member off its class costs about
# 70 ns, twice per answer.
_CLOSED = Cycle.State.CLOSED.value

# What is read of the answers that count now.
_CURRENT = ModelColumns(Report, "r", fields=["id", "assignment", "on_time", "received_at"])
_REPORT_COLUMNS = ("id", *REPORT_COLUMNS)


@dataclass(frozen=True, slots=True)
class Submission:
    """One answer: its assignment (an Assignment with cycle, directive and policy loaded, or the facts
    `load_assignments` reads)."""

    assignment: Assignment | AssignmentFacts
    bullets: Sequence[str]
    received_at: dt.datetime
    source_id: str = ""


@dataclass(slots=True)
class _Accepted:
    index: int
    submission: Submission
    texts: list[str]
    on_time: bool
    stock_id: int | None
    stock_text: str | None
    too_many: bool
    is_current: bool = False
    wins: bool = False
    superseded_at: int | None = None  # the index of the batch answer that took over as current
    report_id: int = 0
    receipt_code: str = ""


@dataclass(slots=True)
class AssignmentFacts:
    """What the rules read of an assignment, without a model instance per row: a batch of thousands is
    two queries and no ORM objects. `cycle` (with its directive) is shared by every assignment of it."""

    pk: int
    cycle_id: int
    employee_id: int
    unit_id: int
    mode: str
    due_at: dt.datetime | None
    policy_id: int | None
    cycle: Cycle


def load_assignments(ids: Sequence[int]) -> dict[int, AssignmentFacts]:
    """The assignments `submit_many()` needs, with what its rules read, in two queries."""
    where, params = id_filter("id", ids)
    postgresql = connection.vendor == "postgresql"
    # PostgreSQL: the deadline as microseconds since 1970, an integer read in C; most assignments of a
    # cycle share one, made a datetime once (the driver's datetime loader is Python, per value).
    due_at = "(extract(epoch FROM due_at) * 1000000)::bigint" if postgresql else "due_at"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, cycle_id, employee_id, unit_id, mode, {due_at}, policy_id"
            f" FROM {Assignment._meta.db_table} WHERE {where}",
            params,
        )
        rows = cursor.fetchall()
    cycles = Cycle.objects.select_related("directive").in_bulk({row[1] for row in rows})
    facts = {}
    for pk, cycle_id, employee_id, unit_id, mode, due_at, policy_id in rows:
        if due_at is not None:
            due_at = _from_microseconds(due_at) if postgresql else _aware(due_at)
        facts[pk] = AssignmentFacts(
            pk,
            cycle_id,
            employee_id,
            unit_id,
            mode,
            due_at,
            policy_id,
            cycles[cycle_id],
        )
    return facts


@functools.lru_cache(maxsize=4_096)
def _from_microseconds(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=value)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _aware(value) -> dt.datetime:
    """SQLite hands back text; the ORM's own conversion, without the ORM."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def submit_many(
    submissions: Sequence[Submission], *, channel: str, strict: bool = True
) -> list[Receipt | SubmissionError]:
    """Validate and store many answers; return, for each in order, its receipt or why nothing was stored.

    Equivalent to `submit(s.assignment, s.bullets, channel=channel, received_at=s.received_at,
    source_id=s.source_id, strict=strict)` for each submission in order, without a signed-in user.
    Should another writer store one of the same source messages meanwhile, the batch is rolled back and
    run through `submit()` one by one, which sorts out who stored what.
    """
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    if not submissions:
        return []
    try:
        with transaction.atomic():
            return _submit_batch(list(submissions), channel, strict)
    except (IntegrityError, DatabaseIntegrityError):
        return [_submit_one(submission, channel, strict) for submission in submissions]


def _submit_one(submission: Submission, channel: str, strict: bool) -> Receipt | SubmissionError:
    assignment = submission.assignment
    if not isinstance(assignment, Assignment):
        assignment = Assignment.objects.select_related("cycle__directive", "policy").get(pk=assignment.pk)
    try:
        return submit(
            assignment,
            submission.bullets,
            channel=channel,
            received_at=submission.received_at,
            source_id=submission.source_id,
            strict=strict,
        )
    except SubmissionError as error:
        return error


def _submit_batch(
    submissions: list[Submission], channel: str, strict: bool
) -> list[Receipt | SubmissionError]:
    results: list[Receipt | SubmissionError | None] = [None] * len(submissions)
    existing = _existing_receipts(channel, {s.source_id for s in submissions if s.source_id})
    # Each directive's stock answers by their normalised text: one lookup per answer.
    stock = stock_tables({s.assignment.cycle.directive_id for s in submissions})
    stored: list[_Accepted] = []
    first_of_source: dict[str, _Accepted] = {}
    repeats: list[tuple[int, _Accepted]] = []  # a source message twice in one batch: stored once
    stored_before: list[tuple[int, Receipt]] = []
    for index, submission in enumerate(submissions):
        if submission.source_id in existing:
            stored_before.append((index, existing[submission.source_id]))
            continue
        if earlier := first_of_source.get(submission.source_id):
            repeats.append((index, earlier))
            continue
        try:
            item = _validate(index, submission, stock, strict)
        except SubmissionError as error:
            results[index] = error
            continue
        stored.append(item)
        if submission.source_id:
            first_of_source[submission.source_id] = item
    superseded: dict[int, int] = {}
    if stored:
        superseded = _decide_current(stored)
        _assign_receipt_codes(stored)
        _insert(stored, channel)
        _announce(stored)
    for item in stored:
        results[item.index] = _as_receipt(item)
    # A duplicate's receipt tells whether the answer counted at that point, as submit() would.
    for index, receipt in stored_before:
        taken_over = superseded.get(receipt.report_id, len(submissions)) < index
        results[index] = replace(receipt, is_current=receipt.is_current and not taken_over)
    for index, earlier in repeats:
        counted = earlier.wins and (earlier.superseded_at is None or earlier.superseded_at > index)
        results[index] = replace(_as_receipt(earlier, duplicate=True), is_current=counted)
    return results


def _validate(index: int, submission: Submission, stock: dict, strict: bool) -> _Accepted:
    assignment = submission.assignment
    received_at = submission.received_at
    cycle = assignment.cycle
    check_open(cycle.week, cycle.state == _CLOSED, cycle.closes_at, received_at)
    texts = answer_texts(submission.bullets)
    directive: Directive = cycle.directive
    answer = stock_answer(texts, stock[directive.pk])
    too_many = check_limits(texts, directive.max_bullets, directive.max_bullet_length, strict)
    return _Accepted(
        index,
        submission,
        texts,
        is_on_time(received_at, assignment.due_at),
        answer[0] if answer else None,
        answer[1] if answer else None,
        too_many,
    )


def _existing_receipts(channel: str, source_ids: set[str]) -> dict[str, Receipt]:
    """Receipts of the answers already stored for these source messages (usually none: one probe of
    the unique index each, and the full rows only for those found)."""
    if not source_ids:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One probe of the unique index per id, whatever the planner thinks of the table's size
            # (a = ANY(list) with the index's condition was planned as a scan of every email answer).
            cursor.execute(
                f"SELECT r.id FROM unnest({array_placeholder()}::text[]) AS wanted(source_id)"
                " CROSS JOIN LATERAL"
                f" (SELECT id FROM {Report._meta.db_table} WHERE channel = %s"
                " AND source_id = wanted.source_id AND source_id <> '' LIMIT 1) AS r",
                [list(source_ids), channel],
            )
        else:
            where, params = id_filter("source_id", source_ids)
            cursor.execute(
                f"SELECT id FROM {Report._meta.db_table} WHERE channel = %s AND {where}", [channel, *params]
            )
        found = [row[0] for row in cursor.fetchall()]
    if not found:
        return {}
    reports = (
        Report.objects.filter(pk__in=found)
        .select_related("cycle", "stock_answer")
        .annotate(bullet_count=Count("bullets"))
    )
    return {
        report.source_id: stored_receipt(report, report.bullet_count, duplicate=True) for report in reports
    }


def _decide_current(items: list[_Accepted]) -> dict[int, int]:
    """Which answer each assignment counts, exactly as one submit() after another would leave it: the
    row locks serialise against other writers, and each answer in turn `takes_over()` or not. Returns the
    stored reports no longer current, each with the index of the answer that took over."""
    assignment_ids = sorted({item.submission.assignment.pk for item in items})
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        # Locked in id order, so two batches touching the same people cannot deadlock.
        where, params = id_filter("id", assignment_ids)
        cursor.execute(f"SELECT id FROM {Assignment._meta.db_table} WHERE {where} ORDER BY id{lock}", params)
        where, params = id_filter("r.assignment_id", assignment_ids)
        cursor.execute(
            f"SELECT {_CURRENT.sql} FROM {Report._meta.db_table} r WHERE r.is_current AND {where}", params
        )
        rows = [_CURRENT.instance(row) for row in cursor.fetchall()]
    # Per assignment, how the answer counting now stands, and that answer (stored: its id).
    current: dict[int, tuple[Standing, _Accepted | int]] = {
        report.assignment_id: ((report.on_time, report.received_at), report.pk) for report in rows
    }
    superseded: dict[int, int] = {}
    for item in items:
        assignment_id = item.submission.assignment.pk
        standing = (item.on_time, item.submission.received_at)
        held = current.get(assignment_id)
        item.wins = takes_over(standing, None if held is None else held[0])
        if not item.wins:
            continue
        if held is not None:
            if isinstance(held[1], _Accepted):
                held[1].is_current = False
                held[1].superseded_at = item.index
            else:
                superseded[held[1]] = item.index
        item.is_current = True
        current[assignment_id] = (standing, item)
    if superseded:
        where, params = id_filter("id", superseded)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Report._meta.db_table} SET is_current = %s WHERE {where}", [False, *params]
            )
    return superseded


def _assign_receipt_codes(items: list[_Accepted]) -> None:
    """Random codes, distinct within the batch. Against the stored ones, uniqueness is the unique index,
    as in submit(): a clash (about one batch of a thousand in 500,000 once a week holds 2.3 M answers)
    fails the batch's insert, and submit_many() then stores its answers one by one through submit(),
    which draws again."""
    taken: set[str] = set()
    for item in items:
        code = _receipt_code()
        while code in taken:
            code = _receipt_code()
        taken.add(code)
        item.receipt_code = code


def _announce(items: list[_Accepted]) -> None:
    """`assignments_changed`, as submit() sends it inside its transaction, once for the whole batch with the
    (cycle, unit) of every answer stored: what its receiver (compliance marking counts stale) reads."""
    units = {(item.submission.assignment.cycle_id, item.submission.assignment.unit_id) for item in items}
    assignments_changed.send(sender=Report, units=sorted(units))


# Drawn as a verification code is (ten Crockford characters); a module name of its own, so that a
# test can make it repeat a stored code.
_receipt_code = crockford_code


def _insert(items: list[_Accepted], channel: str) -> None:
    """Reports, then bullets. PostgreSQL: ids drawn from the sequence, then COPY; elsewhere executemany."""
    table = Report._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(items)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        else:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            start = cursor.fetchone()[0] + 1
            ids = list(range(start, start + len(items)))
        for item, report_id in zip(items, ids, strict=True):
            item.report_id = report_id
        adapt = connection.ops.adapt_datetimefield_value
        report_rows = [_report_row(item, channel, adapt) for item in items]
        bullet_rows = [
            (item.report_id, position, text)
            for item in items
            for position, text in enumerate(item.texts, start=1)
        ]
        write_rows(cursor, table, _REPORT_COLUMNS, report_rows)
        write_rows(cursor, Bullet._meta.db_table, ("report_id", "position", "text"), bullet_rows)


def _report_row(item: _Accepted, channel: str, adapt) -> tuple:
    submission = item.submission
    assignment = submission.assignment
    return (
        item.report_id,
        assignment.pk,
        assignment.cycle_id,
        assignment.employee_id,
        channel,
        submission.source_id,
        adapt(submission.received_at),
        None,
        item.on_time,
        item.is_current,
        item.stock_id,
        item.too_many,
        item.receipt_code,
    )


def _as_receipt(item: _Accepted, duplicate: bool = False) -> Receipt:
    assignment = item.submission.assignment
    return Receipt(
        report_id=item.report_id,
        receipt_code=item.receipt_code,
        cycle_id=assignment.cycle_id,
        week=assignment.cycle.week,
        received_at=item.submission.received_at,
        on_time=item.on_time,
        is_current=item.wins if not duplicate else item.is_current,
        bullets=len(item.texts),
        stock_answer=item.stock_text,
        exceeds_max_bullets=item.too_many,
        duplicate=duplicate,
        asked=asked(assignment.mode),
    )

"""`submit()`: the one function every channel (email, web, API) calls to record an answer.

It reads the facts `rules` decides on (the same rules as `submit_many()`) and stores the outcome. Every
answer is kept; the one compliance counts (`is_current`) is the latest on-time answer, or, when there is
none, the latest late one. The same source message submitted twice is stored once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from operator import itemgetter

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from lastweek import audit
from lastweek.codes import CROCKFORD
from lastweek.directives.models import Assignment, Cycle, StockAnswer
from lastweek.directives.signals import assignments_changed
from lastweek.reports.models import Bullet, Channel, Report
from lastweek.reports.rules import (
    Receipt,
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
from lastweek.reports.stock import stock_table
from lastweek.rows import ModelColumns

# What other modules import from here (`Receipt` and `SubmissionError` are defined in `rules`).
__all__ = ["REPORT_COLUMNS", "Receipt", "SubmissionError", "stock_tables", "submit"]

# Attempts at storing an answer, and the unique indexes whose refusal means "run again": the receipt
# code drawn was taken, or another answer of the person became current meanwhile (see _store).
STORE_ATTEMPTS = 5
_RETRIED = ("receipt_code", "report_one_current")


def submit(
    assignment: Assignment,
    bullets: Sequence[str],
    *,
    channel: str,
    received_at: dt.datetime | None = None,
    source_id: str = "",
    submitted_by: AbstractBaseUser | AnonymousUser | None = None,
    strict: bool = True,
) -> Receipt:
    """Validate and store one answer for `assignment`; return its receipt.

    `strict` (web, API) refuses more bullets than the directive allows and over-long bullets; email
    passes strict=False, which keeps them and flags the report instead, since a reply cannot be edited.
    Raises SubmissionError when nothing was recorded.
    """
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    received_at = received_at or timezone.now()
    if source_id:
        existing = _existing(channel, source_id)
        if existing is not None:
            return existing
    cycle = assignment.cycle
    check_open(cycle.week, cycle.state == Cycle.State.CLOSED, cycle.closes_at, received_at)
    texts = answer_texts(bullets)
    directive = cycle.directive
    stock = stock_answer(texts, stock_tables([directive.pk])[directive.pk])
    too_many = check_limits(texts, directive.max_bullets, directive.max_bullet_length, strict)
    on_time = is_on_time(received_at, assignment.due_at)
    for attempt in range(STORE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _store(
                    assignment,
                    texts,
                    channel,
                    received_at,
                    source_id,
                    submitted_by,
                    on_time,
                    stock,
                    too_many,
                    lock_first=attempt > 0,
                )
        except IntegrityError as exc:
            # The same source message arrived twice at once; the other writer stored it.
            if source_id and (existing := _existing(channel, source_id)):
                return existing
            if not any(name in str(exc) for name in _RETRIED) or attempt == STORE_ATTEMPTS - 1:
                raise
            # Another answer of the same person became current while this one waited for the row lock,
            # or a receipt code was drawn twice (about one in 10^15): run again.
    raise AssertionError("unreachable")


def _store(
    assignment, texts, channel, received_at, source_id, submitted_by, on_time, stock, too_many, *, lock_first
):
    # Hand-written statements: on the API's hot path, compiling ORM queries cost more than running
    # them. Portable SQL (PostgreSQL and SQLite); the row lock only where the database has one.
    lock = " FOR UPDATE OF a" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        # One statement locks the person's assignment row, which serialises their answers, and reads
        # the answer that counts now. Had it to wait for the lock, it read with a snapshot older than
        # the answer it waited for: then the unique index on the current answer refuses the insert
        # below, and submit() runs again with `lock_first`: the lock, then a read that sees everything
        # committed before it. (SQLite writes one transaction at a time.)
        if lock_first and lock:
            cursor.execute(
                f"SELECT id FROM {Assignment._meta.db_table} WHERE id = %s FOR UPDATE", [assignment.pk]
            )
        cursor.execute(
            f"SELECT {_CURRENT.sql} FROM {Assignment._meta.db_table} a"
            f" LEFT JOIN {Report._meta.db_table} r ON r.assignment_id = a.id AND r.is_current"
            f" WHERE a.id = %s{'' if lock_first else lock}",
            [assignment.pk],
        )
        row = cursor.fetchone()
        current = _CURRENT.instance(row) if row and row[0] is not None else None
        held = None if current is None else (current.on_time, current.received_at)
        wins = takes_over((on_time, received_at), held)
        if wins and current is not None:
            cursor.execute(
                f"UPDATE {Report._meta.db_table} SET is_current = %s WHERE id = %s", [False, current.pk]
            )
        receipt_code = _new_receipt_code()
        acting = audit.acting_user(submitted_by)
        values = [
            assignment.pk,
            assignment.cycle_id,
            assignment.employee_id,
            channel,
            source_id,
            connection.ops.adapt_datetimefield_value(received_at),
            acting.pk if acting else None,
            on_time,
            wins,
            stock[0] if stock else None,
            too_many,
            receipt_code,
        ]
        report_id = _insert_returning_id(cursor, Report._meta.db_table, REPORT_COLUMNS, values)
        rows = ", ".join(["(%s, %s, %s)"] * len(texts))
        cursor.execute(
            f"INSERT INTO {Bullet._meta.db_table} (report_id, position, text) VALUES {rows}",
            [value for position, text in enumerate(texts, start=1) for value in (report_id, position, text)],
        )
    assignments_changed.send(sender=Report, units=[(assignment.cycle_id, assignment.unit_id)])
    return Receipt(
        report_id=report_id,
        receipt_code=receipt_code,
        cycle_id=assignment.cycle_id,
        week=assignment.cycle.week,
        received_at=received_at,
        on_time=on_time,
        is_current=wins,
        bullets=len(texts),
        stock_answer=stock[1] if stock else None,
        exceeds_max_bullets=too_many,
        asked=asked(assignment.mode),
    )


# The columns of a new report (submit_many adds the id it draws), and those read of the one that
# counts now.
REPORT_COLUMNS = (
    "assignment_id",
    "cycle_id",
    "employee_id",
    "channel",
    "source_id",
    "received_at",
    "submitted_by_id",
    "on_time",
    "is_current",
    "stock_answer_id",
    "exceeds_max_bullets",
    "receipt_code",
)
_CURRENT = ModelColumns(Report, "r", fields=["id", "on_time", "received_at"])


def _insert_returning_id(cursor, table: str, columns: Sequence[str], values: list) -> int:
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    if connection.features.can_return_columns_from_insert:
        cursor.execute(f"{sql} RETURNING id", values)
        return cursor.fetchone()[0]
    cursor.execute(sql, values)
    return cursor.lastrowid


def stock_tables(directive_ids: Iterable[int]) -> dict[int, dict[str, tuple[int, str]]]:
    """Each directive's stock answers as (id, text), by their normalised text: the table
    `rules.stock_answer()` looks an answer up in (submit() asks for one directive, submit_many() for a
    batch's)."""
    tables: dict[int, dict[str, tuple[int, str]]] = {}
    with connection.cursor() as cursor:
        for directive_id in sorted(set(directive_ids)):
            cursor.execute(
                f"SELECT id, text FROM {StockAnswer._meta.db_table} WHERE directive_id = %s ORDER BY id",
                [directive_id],
            )
            tables[directive_id] = stock_table(cursor.fetchall(), key=itemgetter(1))
    return tables


def _new_receipt_code() -> str:
    # No look-alikes: receipts are read aloud and typed. Uniqueness is the database's unique index (a
    # clash makes submit() draw again), not a lookup before every insert.
    return get_random_string(10, CROCKFORD)


def _existing(channel: str, source_id: str) -> Receipt | None:
    report = (
        Report.objects.filter(channel=channel, source_id=source_id)
        .select_related("cycle", "stock_answer")
        .first()
    )
    if report is None:
        return None
    return stored_receipt(report, report.bullets.count(), duplicate=True)

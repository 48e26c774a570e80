"""The materialised counts behind every rollup, and how they are kept up to date.

Counting 2.3 M assignments left-join reports on each dashboard request is far too slow, so each cycle has
UnitCycleCount rows: per unit, how many assignments share one set of status inputs (mode, answer,
on leave, auto-reply, bounced, own deadline). Three scopes: a unit's own people, its whole subtree, and
its agency. A rollup then reads a handful of rows (`rollup.py`).

They are kept current like this:
- `refresh_cycle()` rebuilds a cycle in full in SQL: own rows by one GROUP BY, subtree rows bottom-up one
  unit level at a time (each level's own rows plus its children's subtree rows), agency rows from the own
  rows. The schedule runs it for each open cycle that has none yet and every FULL_REFRESH_MINUTES, as a
  safety net for rows changed outside the application.
- Whatever changes an assignment's status marks its units stale inside the transaction that changes it:
  an answer, an automatic reply or a bounce, a policy re-applied mid-cycle, an exemption
  (`directives.signals.assignments_changed`, the one path). `refresh_stale()` recounts the stale units'
  own rows and adds the difference to the subtree and agency rows of every unit above, so a recount costs
  a few rows whatever the size of the agency; `follow()` (in `lastweek worker`) runs it every second.
Both take the cycle's CycleSummary row lock, so two refreshes of one cycle never interleave.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable

from django.db import close_old_connections, connection, transaction
from django.db.models import Count
from django.dispatch import receiver
from django.utils import timezone

from lastweek.compliance.models import CycleSummary, StaleUnit, UnitCycleCount
from lastweek.directives.models import Assignment, Cycle
from lastweek.directives.signals import assignments_changed
from lastweek.org.models import Unit
from lastweek.reports.models import Report
from lastweek.rows import array_placeholder

log = logging.getLogger(__name__)

DIMENSIONS = ("mode", "answer", "on_leave", "auto_reply", "bounced", "due_at")
# A dashboard read recounts the stale units itself when there are at most this many (a few ms each) and
# no other refresh holds the cycle; a larger backlog waits for the worker, so reads stay fast under load.
CATCH_UP_ON_READ = 20
_CHUNK = 500

_TABLE = UnitCycleCount._meta.db_table
_UNITS = Unit._meta.db_table
_COLUMNS = "cycle_id, scope, agency_id, unit_id, mode, answer, on_leave, auto_reply, bounced, due_at, count"
_DIMS = "mode, answer, on_leave, auto_reply, bounced, due_at"
# Status inputs per assignment, collapsed where the status ignores them (paused and exempt need nothing
# but their mode), so a unit has only a few distinct rows.
_OWN_SELECT = """
    SELECT a.cycle_id, 'own', a.agency_id, a.unit_id, a.mode,
        CASE WHEN a.mode IN ('paused', 'exempt') OR r.id IS NULL THEN ''
             WHEN r.on_time THEN 'on_time' ELSE 'late' END,
        CASE WHEN a.mode = 'required' AND r.id IS NULL AND a.on_leave THEN TRUE ELSE FALSE END,
        CASE WHEN a.mode = 'required' AND r.id IS NULL AND a.auto_reply_at IS NOT NULL
             THEN TRUE ELSE FALSE END,
        CASE WHEN a.mode = 'required' AND r.id IS NULL AND a.bounced_at IS NOT NULL
             THEN TRUE ELSE FALSE END,
        CASE WHEN a.mode = 'required' THEN a.due_at END,
        COUNT(*)
    FROM {assignments} a
    LEFT JOIN {reports} r ON r.assignment_id = a.id AND r.is_current
    WHERE a.cycle_id = %s {units}
    GROUP BY a.cycle_id, a.agency_id, a.unit_id, 5, 6, 7, 8, 9, 10
"""


def _own_select(units: str = "") -> str:
    return _OWN_SELECT.format(
        assignments=Assignment._meta.db_table, reports=Report._meta.db_table, units=units
    )


@receiver(assignments_changed)
def mark_stale(sender: object, units: list[tuple[int, int]], **kwargs) -> None:
    """Mark the changed units (cycle id, unit id) for recounting; runs inside the transaction that
    changed them. ON CONFLICT DO NOTHING takes no lock on an existing mark, so answers from one unit do
    not queue behind each other; the marks go in key order, so two batches cannot deadlock."""
    pairs = sorted(set(units))
    # Hand-written: this runs inside every submission, where the ORM's bulk_create cost more than the
    # insert itself; a batch of answers marks all its units in one statement (per 500 on SQLite).
    table = StaleUnit._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # two array parameters: one statement text, prepared once
            array = array_placeholder()
            cursor.execute(
                f"INSERT INTO {table} (cycle_id, unit_id)"
                f" SELECT * FROM unnest({array}::bigint[], {array}::bigint[]) ON CONFLICT DO NOTHING",
                [[cycle for cycle, _ in pairs], [unit for _, unit in pairs]],
            )
            return
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start : start + _CHUNK]
            cursor.execute(
                f"INSERT INTO {table} (cycle_id, unit_id)"
                f" VALUES {', '.join(['(%s, %s)'] * len(chunk))} ON CONFLICT DO NOTHING",
                [value for pair in chunk for value in pair],
            )


def _lock_summary(cycle: Cycle, now: dt.datetime, wait: bool = True) -> tuple[CycleSummary | None, bool]:
    """The cycle's summary row, locked for this transaction; created (empty) when missing. None when
    `wait` is false and another refresh holds it."""
    summary, created = CycleSummary.objects.get_or_create(
        cycle=cycle, defaults={"built_at": now, "refreshed_at": now}
    )
    locked = CycleSummary.objects.select_for_update(skip_locked=not wait).filter(pk=summary.pk).first()
    return locked, created


def refresh_cycle(cycle: Cycle, *, now: dt.datetime | None = None) -> int:
    """Rebuild all of `cycle`'s counts from its assignments and current reports; returns the rows
    written. Marks taken before the rebuild are cleared; answers arriving meanwhile stay marked."""
    now = now or timezone.now()
    with transaction.atomic():
        summary, _ = _lock_summary(cycle, now)
        StaleUnit.objects.filter(cycle_id=cycle.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_TABLE} WHERE cycle_id = %s", [cycle.pk])
            cursor.execute(f"INSERT INTO {_TABLE} ({_COLUMNS}) {_own_select()}", [cycle.pk])
            written = cursor.rowcount
            written += _build_subtrees(cursor, cycle.pk)
            written += _build_agencies(cursor, cycle.pk)
            if connection.vendor == "postgresql":
                # Fresh statistics, or the planner takes a new cycle's rows for a handful and scans.
                cursor.execute(f"ANALYZE {_TABLE}")
        summary.built_at = summary.refreshed_at = now
        summary.save(update_fields=["built_at", "refreshed_at"])
    log.info("Rebuilt the compliance counts of cycle %s: %d rows", cycle.pk, written)
    return written


def _build_subtrees(cursor, cycle_id: int) -> int:
    """Subtree rows, deepest units first: a unit's own rows plus its children's subtree rows."""
    cursor.execute(f"SELECT MAX(depth) FROM {_UNITS}")
    deepest = cursor.fetchone()[0] or 0
    written = 0
    for depth in range(deepest, -1, -1):
        cursor.execute(
            f"""
            INSERT INTO {_TABLE} ({_COLUMNS})
            SELECT %s, 'subtree', agency_id, unit_id, {_DIMS}, SUM(count) FROM (
                SELECT c.agency_id, c.unit_id, {_dims("c")}, c.count
                FROM {_TABLE} c JOIN {_UNITS} u ON u.id = c.unit_id
                WHERE c.cycle_id = %s AND c.scope = 'own' AND u.depth = %s
                UNION ALL
                SELECT c.agency_id, u.parent_id, {_dims("c")}, c.count
                FROM {_TABLE} c JOIN {_UNITS} u ON u.id = c.unit_id
                WHERE c.cycle_id = %s AND c.scope = 'subtree' AND u.depth = %s
            ) below
            GROUP BY agency_id, unit_id, {_DIMS}
            """,
            [cycle_id, cycle_id, depth, cycle_id, depth + 1],
        )
        written += cursor.rowcount
    return written


def _build_agencies(cursor, cycle_id: int) -> int:
    cursor.execute(
        f"""
        INSERT INTO {_TABLE} ({_COLUMNS})
        SELECT cycle_id, 'agency', agency_id, NULL, {_DIMS}, SUM(count)
        FROM {_TABLE} WHERE cycle_id = %s AND scope = 'own'
        GROUP BY cycle_id, agency_id, {_DIMS}
        """,
        [cycle_id],
    )
    return cursor.rowcount


def _dims(alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in DIMENSIONS)


def refresh_stale(
    cycle: Cycle, *, now: dt.datetime | None = None, limit: int | None = None, wait: bool = True
) -> int:
    """Recount the units marked stale for `cycle` (at most `limit`), carrying the differences up to
    every unit above them and to their agency. Builds the cycle in full when it has no counts yet.
    With `wait` false, does nothing when another refresh holds the cycle. Returns the units recounted."""
    now = now or timezone.now()
    if not CycleSummary.objects.filter(cycle=cycle).exists():
        refresh_cycle(cycle, now=now)
        return 0
    with transaction.atomic():
        summary, _ = _lock_summary(cycle, now, wait=wait)
        if summary is None:
            return 0
        marks = StaleUnit.objects.filter(cycle_id=cycle.pk).order_by("id")
        unit_ids = list(
            marks.values_list("unit_id", flat=True)[:limit]
            if limit
            else marks.values_list("unit_id", flat=True)
        )
        if not unit_ids:
            return 0
        for start in range(0, len(unit_ids), _CHUNK):
            _recount(cycle.pk, unit_ids[start : start + _CHUNK])
        summary.refreshed_at = now
        summary.save(update_fields=["refreshed_at"])
    log.info("Recounted %d units of cycle %s", len(unit_ids), cycle.pk)
    return len(unit_ids)


def _key(row: UnitCycleCount) -> tuple:
    return tuple(getattr(row, name) for name in DIMENSIONS)


def _recount(cycle_id: int, unit_ids: list[int]) -> None:
    StaleUnit.objects.filter(cycle_id=cycle_id, unit_id__in=unit_ids).delete()
    own = UnitCycleCount.objects.filter(
        cycle_id=cycle_id, scope=UnitCycleCount.Scope.OWN, unit_id__in=unit_ids
    )
    delta: Counter = Counter()
    agency_of: dict[int, int] = {}
    for row in own:
        delta[(row.unit_id, _key(row))] -= row.count
        agency_of[row.unit_id] = row.agency_id
    own.delete()
    placeholders = ", ".join(["%s"] * len(unit_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} ({_COLUMNS}) " + _own_select(f"AND a.unit_id IN ({placeholders})"),
            [cycle_id, *unit_ids],
        )
    for row in UnitCycleCount.objects.filter(
        cycle_id=cycle_id, scope=UnitCycleCount.Scope.OWN, unit_id__in=unit_ids
    ):
        delta[(row.unit_id, _key(row))] += row.count
        agency_of[row.unit_id] = row.agency_id
    _carry_up(cycle_id, {key: change for key, change in delta.items() if change}, agency_of)


def _carry_up(cycle_id: int, delta: dict[tuple, int], agency_of: dict[int, int]) -> None:
    """Add each unit's difference to the subtree rows of the unit and every unit above, and to its
    agency's rows."""
    paths = dict(Unit.objects.filter(pk__in={unit for unit, _ in delta}).values_list("id", "path"))
    changes: Counter = Counter()
    for (unit_id, key), change in delta.items():
        agency_id = agency_of[unit_id]
        for ancestor in paths[unit_id].strip("/").split("/"):
            changes[(UnitCycleCount.Scope.SUBTREE, agency_id, int(ancestor), key)] += change
        changes[(UnitCycleCount.Scope.AGENCY, agency_id, None, key)] += change
    _apply(cycle_id, changes)


def _apply(cycle_id: int, changes: Counter) -> None:
    units = {unit for scope, _, unit, _ in changes if scope == UnitCycleCount.Scope.SUBTREE}
    agencies = {agency for scope, agency, _, _ in changes if scope == UnitCycleCount.Scope.AGENCY}
    existing = {
        (row.scope, row.agency_id, row.unit_id, _key(row)): row
        for row in _rows(cycle_id, UnitCycleCount.Scope.SUBTREE, "unit_id__in", units)
        + _rows(cycle_id, UnitCycleCount.Scope.AGENCY, "agency_id__in", agencies)
    }
    changed, created, emptied = [], [], []
    for (scope, agency_id, unit_id, key), change in changes.items():
        if not change:
            continue
        row = existing.get((scope, agency_id, unit_id, key))
        if row is None:
            fields = dict(zip(DIMENSIONS, key, strict=True))
            created.append(
                UnitCycleCount(
                    cycle_id=cycle_id,
                    scope=scope,
                    agency_id=agency_id,
                    unit_id=unit_id,
                    count=change,
                    **fields,
                )
            )
            continue
        row.count += change
        (emptied if row.count <= 0 else changed).append(row)
    _set_counts([(row.pk, row.count) for row in changed])
    UnitCycleCount.objects.bulk_create(created, batch_size=1_000)
    UnitCycleCount.objects.filter(pk__in=[row.pk for row in emptied]).delete()


def _set_counts(rows: list[tuple[int, int]]) -> None:
    """New counts by row id. Hand-written: `bulk_update` builds a CASE of one branch per row, which cost
    more than half of a recount of 300 answers' units (0.4 s a pass, profiled on 2.3 M assignments)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            array = array_placeholder()
            cursor.execute(
                f"UPDATE {_TABLE} AS c SET count = v.count"
                f" FROM unnest({array}::bigint[], {array}::bigint[]) AS v(id, count) WHERE c.id = v.id",
                [[row_id for row_id, _ in rows], [count for _, count in rows]],
            )
        else:
            cursor.executemany(f"UPDATE {_TABLE} SET count = %s WHERE id = %s", [(n, i) for i, n in rows])


def _rows(cycle_id: int, scope: str, lookup: str, ids: Iterable[int]) -> list[UnitCycleCount]:
    ids = sorted(ids)
    rows: list[UnitCycleCount] = []
    for start in range(0, len(ids), _CHUNK):
        query = UnitCycleCount.objects.filter(
            cycle_id=cycle_id, scope=scope, **{lookup: ids[start : start + _CHUNK]}
        )
        rows.extend(query)
    return rows


def ensure_current(cycles: Iterable[Cycle], *, now: dt.datetime | None = None) -> None:
    """Before a read: build cycles that have no counts yet, and recount the stale units of a cycle that
    has only a few (CATCH_UP_ON_READ), so a figure read just after an answer includes it; larger
    backlogs are the worker's (every minute). Three small queries when everything is current."""
    by_id = {cycle.pk: cycle for cycle in cycles}
    built = set(CycleSummary.objects.filter(cycle_id__in=by_id).values_list("cycle_id", flat=True))
    for cycle_id, cycle in by_id.items():
        if cycle_id not in built:
            refresh_cycle(cycle, now=now)
    stale = StaleUnit.objects.filter(cycle_id__in=by_id).values("cycle_id").annotate(units=Count("id"))
    for cycle_id, units in stale.order_by().values_list("cycle_id", "units"):
        if units <= CATCH_UP_ON_READ:
            refresh_stale(by_id[cycle_id], now=now, wait=False)


def follow(stop: threading.Event, *, every: float = 1.0) -> None:
    """Until `stop` is set: recount the stale units of every cycle, a pass every `every` seconds (at
    once when a pass took longer), so a figure shows a change within about a second of its commit
    whatever the rate of answers. Several workers may run it: a cycle another refresh holds is skipped
    (its counts are being brought current)."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            for cycle in _cycles_with_stale_units():
                refresh_stale(cycle, wait=False)
        except Exception:  # the next pass tries again; a database restart must not end the loop
            log.exception("Recounting stale units failed; trying again in %s s", every)
        finally:
            close_old_connections()
        stop.wait(max(0.0, every - (time.monotonic() - started)))


def _cycles_with_stale_units() -> list[Cycle]:
    cycle_ids = StaleUnit.objects.values_list("cycle_id", flat=True).distinct().order_by()
    return list(Cycle.objects.filter(pk__in=cycle_ids))

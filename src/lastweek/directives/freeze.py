"""Writing a cycle's assignments in bulk, and re-applying policies to an open cycle.

At two million people a row-by-row ORM loop is far too slow, so the decisions are made in Python once
per unit (by `participation.decide`) and the rows are written by one INSERT … SELECT that joins the
roster to those per-unit decisions. People with an individual exemption are decided one by one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q

from lastweek.directives.models import Assignment, AssignmentChange, Cycle, Directive, Exemption, Policy
from lastweek.directives.participation import (
    Decision,
    PolicyIndex,
    decide,
    due_at,
    exemptions_for,
    unit_decisions,
)
from lastweek.directives.schedule import local_deadline
from lastweek.directives.signals import assignments_changed
from lastweek.org.models import Employee, Unit
from lastweek.rows import temp_table

_ASSIGNMENTS = Assignment._meta.db_table
ASSIGNMENT_COLUMNS = (
    "cycle_id, employee_id, agency_id, unit_id, manager_id, mode, source, policy_id, exemption_id, "
    "reason, due_at, on_leave"
)


def audience_units(directive: Directive) -> Iterable[tuple[int, int, str]]:
    """(unit id, agency id, path) of every unit the directive asks."""
    units = Unit.objects.all()
    if not directive.whole_organization:
        condition = Q(agency__in=directive.audience_agencies.all())
        for unit in directive.audience_units.all():
            condition |= Q(path__startswith=unit.path)
        units = units.filter(condition)
    return units.values_list("id", "agency_id", "path").iterator(chunk_size=10_000)


def _db_datetime(value: dt.datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def freeze_assignments(cycle: Cycle) -> int:
    """Write one Assignment per person in the directive's audience, as decided at `cycle.opened_at`.
    Returns the number written."""
    directive, at = cycle.directive, cycle.opened_at
    index = PolicyIndex.in_force(directive, at)
    units = list(audience_units(directive))
    decisions = unit_decisions(directive, index, units)
    special = _exempted(cycle, at, {unit_id for unit_id, _, _ in units})
    with (
        temp_table(
            "lw_unit_decision",
            "unit_id bigint, on_leave boolean, mode varchar(16), source varchar(16), policy_id bigint, "
            "reason text, PRIMARY KEY (unit_id, on_leave)",
            ((u, leave, d.mode, d.source, d.policy_id, d.reason) for (u, leave), d in decisions.items()),
        ),
        temp_table(
            "lw_zone_due",
            "time_zone varchar(64) PRIMARY KEY, due_at timestamp with time zone",
            _zone_dues(cycle),
        ),
        temp_table("lw_special", "employee_id bigint PRIMARY KEY", ((e,) for e in special)),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"""
            INSERT INTO {_ASSIGNMENTS} ({ASSIGNMENT_COLUMNS})
            SELECT %s, e.id, e.agency_id, e.unit_id, e.manager_id, d.mode, d.source, d.policy_id, NULL,
                   d.reason, CASE WHEN d.on_leave THEN NULL ELSE COALESCE(z.due_at, %s) END, d.on_leave
            FROM {Employee._meta.db_table} e
            JOIN lw_unit_decision d ON d.unit_id = e.unit_id AND d.on_leave = (e.status = 'on_leave')
            LEFT JOIN lw_zone_due z ON z.time_zone = e.time_zone
            WHERE e.status <> 'separated'
              AND NOT EXISTS (SELECT 1 FROM lw_special s WHERE s.employee_id = e.id)
            """,
            [cycle.pk, _db_datetime(cycle.deadline)],
        )
        written = cursor.rowcount
        written += _write_individually(cycle, special, index)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_ASSIGNMENTS}")
    return written


def _zone_dues(cycle: Cycle) -> Iterable[tuple[str, object]]:
    """Per employee time zone, the deadline when it is kept in each person's own zone."""
    directive = cycle.directive
    if directive.deadline_basis != Directive.DeadlineBasis.EMPLOYEE:
        return []
    zones = Employee.objects.values_list("time_zone", flat=True).distinct().order_by()
    return [(z, _db_datetime(local_deadline(cycle.deadline, directive.time_zone, z))) for z in zones]


def _exempted(cycle: Cycle, at: dt.datetime, unit_ids: set[int]) -> dict[int, list[Exemption]]:
    """Exemptions touching the cycle, by employee, for people in the audience who are not separated."""
    by_employee: dict[int, list[Exemption]] = defaultdict(list)
    query = Exemption.objects.filter(exemptions_for(cycle, at)).exclude(
        employee__status=Employee.Status.SEPARATED
    )
    for exemption in query.select_related("employee"):
        if exemption.employee.unit_id in unit_ids:
            by_employee[exemption.employee_id].append(exemption)
    return by_employee


def _write_individually(cycle: Cycle, exempted: dict[int, list[Exemption]], index: PolicyIndex) -> int:
    directive = cycle.directive
    rows = []
    for employee in Employee.objects.filter(pk__in=list(exempted)).select_related("unit"):
        decision = decide(
            directive,
            index.nearest(employee.agency_id, employee.unit.path),
            exempted[employee.pk],
            roster_on_leave=employee.status == Employee.Status.ON_LEAVE,
        )
        due = due_at(directive, cycle, decision, employee.time_zone)
        rows.append(
            (cycle.pk, employee.pk, employee.agency_id, employee.unit_id, employee.manager_id)
            + _decision_columns(decision)
            + (_db_datetime(due), decision.on_leave)
        )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5_000):
            cursor.executemany(
                f"INSERT INTO {_ASSIGNMENTS} ({ASSIGNMENT_COLUMNS}) VALUES ({', '.join(['%s'] * 12)})",
                rows[start : start + 5_000],
            )
    return len(rows)


def _decision_columns(decision: Decision) -> tuple:
    return (decision.mode, decision.source, decision.policy_id, decision.exemption_id, decision.reason)


def reapply(
    cycle: Cycle, units: Iterable[tuple[int, int, str]], at: dt.datetime, cause: Policy | None
) -> int:
    """Re-decide the open cycle's assignments in `units` under the policies in force at `at`; change the
    ones whose decision differs and record each change. Returns the number changed."""
    directive = cycle.directive
    index = PolicyIndex.in_force(directive, at)
    decisions = unit_decisions(directive, index, units)
    rows = ((u, d.mode, d.source, d.policy_id) for (u, leave), d in decisions.items() if not leave)
    changed_at = _db_datetime(at)
    differs = (
        "(a.mode <> d.mode OR a.source <> d.source OR COALESCE(a.policy_id, 0) <> COALESCE(d.policy_id, 0))"
    )
    assignments, changes = _ASSIGNMENTS, AssignmentChange._meta.db_table
    with (
        temp_table(
            "lw_unit_mode",
            "unit_id bigint PRIMARY KEY, mode varchar(16), source varchar(16), policy_id bigint",
            rows,
        ) as table,
        connection.cursor() as cursor,
    ):
        changing = f"""
            FROM {assignments} a JOIN {table} d ON d.unit_id = a.unit_id
            WHERE a.cycle_id = %s AND a.exemption_id IS NULL AND {differs}
        """
        cursor.execute(f"SELECT DISTINCT a.unit_id {changing}", [cycle.pk])
        changed_units = [unit_id for (unit_id,) in cursor.fetchall()]
        cursor.execute(
            f"""
            INSERT INTO {changes}
                (assignment_id, changed_at, old_mode, new_mode, old_source, new_source, policy_id, reason)
            SELECT a.id, %s, a.mode, d.mode, a.source, d.source, %s, %s {changing}
            """,
            [changed_at, cause.pk if cause else None, cause.reason if cause else "", cycle.pk],
        )
        changed = cursor.rowcount
        # UPDATE … FROM is understood by PostgreSQL and by SQLite since 3.33.
        cursor.execute(
            f"""
            UPDATE {assignments} AS a
            SET mode = d.mode, source = d.source, policy_id = d.policy_id, changed_at = %s
            FROM {table} d
            WHERE d.unit_id = a.unit_id AND a.cycle_id = %s AND a.exemption_id IS NULL AND {differs}
            """,
            [changed_at, cycle.pk],
        )
    if changed_units:
        assignments_changed.send(sender=Assignment, units=[(cycle.pk, unit_id) for unit_id in changed_units])
    unit_ids = {unit_id for unit_id, _ in decisions}
    individual = Assignment.objects.filter(
        cycle=cycle, exemption__isnull=False, unit_id__in=unit_ids
    ).select_related("cycle__directive", "employee")
    return changed + sum(redecide(a, at, cause, index=index) for a in individual.iterator())


def redecide(
    assignment: Assignment,
    at: dt.datetime,
    cause: Policy | None,
    reason: str = "",
    *,
    index: PolicyIndex | None = None,
) -> bool:
    """Re-decide one assignment from its frozen unit and the policies and exemptions in force at `at`;
    record and save a change. Returns whether anything changed."""
    cycle = assignment.cycle
    employee = assignment.employee
    unit = Unit.objects.get(pk=assignment.unit_id)
    index = index or PolicyIndex.in_force(cycle.directive, at)
    policy = index.nearest(assignment.agency_id, unit.path)
    exemptions = list(Exemption.objects.filter(exemptions_for(cycle, at), employee=employee))
    roster_leave = assignment.on_leave and assignment.exemption_id is None
    decision = decide(cycle.directive, policy, exemptions, roster_on_leave=roster_leave)
    new = {
        "mode": decision.mode,
        "source": decision.source,
        "policy_id": decision.policy_id,
        "exemption_id": decision.exemption_id,
        "reason": decision.reason,
        "on_leave": decision.on_leave,
        "due_at": due_at(cycle.directive, cycle, decision, employee.time_zone),
    }
    if all(getattr(assignment, field) == value for field, value in new.items()):
        return False
    AssignmentChange.objects.create(
        assignment=assignment,
        changed_at=at,
        old_mode=assignment.mode,
        new_mode=decision.mode,
        old_source=assignment.source,
        new_source=decision.source,
        policy=cause,
        reason=reason or (cause.reason if cause else decision.reason),
    )
    for field, value in new.items():
        setattr(assignment, field, value)
    assignment.changed_at = at
    assignment.save()
    assignments_changed.send(sender=Assignment, units=[(cycle.pk, assignment.unit_id)])
    return True

"""One's own weeks: the signed-in employee's assignments and the reports they may read of them.

The employee page and the API read only through these functions. Reports come from
`reports.reading.visible_reports()` narrowed to the caller's own roster entry, so even a manager or an
auditor sees only their own answers here.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Prefetch, QuerySet

from lastweek.access.scopes import linked_employee
from lastweek.directives.models import ASKED_MODES, Assignment, Cycle, Directive, Mode
from lastweek.reports.models import Bullet, Report
from lastweek.reports.reading import visible_reports
from lastweek.rows import ModelColumns, split_row

AnyUser = AbstractBaseUser | AnonymousUser
PAST_WEEKS = 26


def own_assignments(user: AnyUser) -> QuerySet[Assignment]:
    """The caller's assignments, newest week first, with their cycle and directive."""
    employee = linked_employee(user)
    if employee is None:
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(employee=employee)
        .select_related("cycle__directive", "policy", "exemption")
        .order_by("-cycle__week_start", "cycle__directive_id")
    )


def own_reports(user: AnyUser) -> QuerySet[Report]:
    """The caller's own reports (every answer, newest first), through the access module."""
    employee = linked_employee(user)
    if employee is None:
        return Report.objects.none()
    return visible_reports(user).filter(employee=employee)


def own_assignment(user: AnyUser, cycle_id: int) -> Assignment | None:
    """The caller's assignment in one cycle with its cycle and directive (what submit() reads), or None
    when they are not in it. Narrower than own_assignments(): this is the API's per-submission read, one
    hand-written statement (see lastweek.rows) rather than a compiled two-join select_related."""
    employee = linked_employee(user)
    if employee is None:
        return None
    assignment_columns, cycle_columns, directive_columns = _assignment_columns()
    sql = (
        f"SELECT {assignment_columns.sql}, {cycle_columns.sql}, {directive_columns.sql}"
        f" FROM {Assignment._meta.db_table} a"
        f" JOIN {Cycle._meta.db_table} c ON c.id = a.cycle_id"
        f" JOIN {Directive._meta.db_table} d ON d.id = c.directive_id"
        " WHERE a.employee_id = %s AND a.cycle_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [employee.pk, cycle_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = split_row(row, assignment_columns, cycle_columns, directive_columns)
    assignment = assignment_columns.instance(values[0])
    assignment.cycle = cycle_columns.instance(values[1])
    assignment.cycle.directive = directive_columns.instance(values[2])
    assignment.employee = employee
    return assignment


@functools.cache
def _assignment_columns() -> tuple[ModelColumns, ModelColumns, ModelColumns]:
    return ModelColumns(Assignment, "a"), ModelColumns(Cycle, "c"), ModelColumns(Directive, "d")


def assignment_reason(assignment: Assignment) -> str:
    """Why the person is (or is not) asked: the reason recorded on the assignment, else that of the
    policy or exemption that decided it (load them with select_related)."""
    if assignment.reason:
        return assignment.reason
    if assignment.policy_id and assignment.policy:
        return assignment.policy.reason
    if assignment.exemption_id and assignment.exemption:
        return assignment.exemption.reason
    return ""


@dataclass
class Week:
    """One of the caller's assignments with its answers, and what may be done with it at `now`."""

    assignment: Assignment
    now: dt.datetime
    reports: list[Report] = field(default_factory=list)  # newest first

    @property
    def cycle(self) -> Cycle:
        return self.assignment.cycle

    @property
    def current(self) -> Report | None:
        return next((report for report in self.reports if report.is_current), None)

    @property
    def reason(self) -> str:
        return assignment_reason(self.assignment)

    @property
    def asked(self) -> bool:
        return self.assignment.mode in ASKED_MODES

    @property
    def voluntary(self) -> bool:
        return self.assignment.mode == Mode.VOLUNTARY

    @property
    def closed(self) -> bool:
        return self.cycle.state == Cycle.State.CLOSED

    @property
    def before_deadline(self) -> bool:
        """On time if sent now: by the person's own due time (none yet while on leave)."""
        due = self.assignment.due_at
        return due is None or self.now <= due

    @property
    def can_edit(self) -> bool:
        """An answer sent now would be on time (or, for a paused or exempt person, is taken as a
        voluntary one while the week is open): the form is open and prefilled."""
        return not self.closed and (self.before_deadline or not self.asked)

    @property
    def can_answer_late(self) -> bool:
        """Past the deadline but still open: the on-time answer is read-only, a late one is taken."""
        return self.asked and not self.closed and not self.before_deadline

    @property
    def own_due_time(self) -> bool:
        """The person's deadline differs from the cycle's (leave grace, or their own time zone)."""
        return self.assignment.due_at != self.cycle.deadline


def own_weeks(
    user: AnyUser, now: dt.datetime, *, cycle_id: int | None = None, limit: int = PAST_WEEKS
) -> list[Week]:
    """The caller's latest weeks (or their week in one cycle) with every one of their answers, its
    bullets and the directive's stock answers, in a fixed number of queries."""
    assignments = own_assignments(user).prefetch_related("cycle__directive__stock_answers")
    if cycle_id is not None:
        assignments = assignments.filter(cycle_id=cycle_id)
    reports = own_reports(user).prefetch_related(
        Prefetch("bullets", queryset=Bullet.objects.order_by("position"))
    )
    assignments = assignments.prefetch_related(
        Prefetch("reports", queryset=reports.order_by("-received_at", "-id"), to_attr="own_reports")
    )
    return [Week(a, now, a.own_reports) for a in assignments[:limit]]

"""The demo employee's own weeks: asked in the open week (left for them to answer on /report/) and one
past week already answered on time, so the page shows a receipt."""

from __future__ import annotations

import datetime as dt

from lastweek.directives.actions import close_cycle, open_cycle
from lastweek.directives.models import ASKED_MODES, Assignment, Cycle
from lastweek.directives.schedule import week_label
from lastweek.org.models import Employee
from lastweek.reports import submit

PAST_ANSWER = [
    "Decided 38 compensation claims, 6 of them over a year old",
    "Trained two new colleagues on the rating tool",
    "Cleared the backlog of address changes for the regional office",
]


def answer_a_past_week(employee: Employee, current: Cycle, say=print) -> None:
    """Give `employee` one answered past week: the latest closed week of the directive (the week before
    `current`, opened and closed here when there is none). Idempotent."""
    directive = current.directive
    past = directive.cycles.filter(state=Cycle.State.CLOSED).order_by("-week_start").first()
    if past is None:
        earlier = week_label(current.week_start - dt.timedelta(days=7))
        past = directive.cycles.filter(week=earlier).first() or open_cycle(directive, earlier)
    assignment = Assignment.objects.filter(cycle=past, employee=employee, mode__in=ASKED_MODES).first()
    # A closed week takes no answers: the demo's history has already answered it, or left it missing.
    if assignment is not None and past.state == Cycle.State.OPEN and not assignment.reports.exists():
        submit(
            assignment,
            PAST_ANSWER,
            channel="web",
            received_at=past.deadline - dt.timedelta(hours=20),
            submitted_by=employee.user,
        )
        say(f"The demo employee answered {past.week}.")
    if past.state == Cycle.State.OPEN and past.deadline < current.deadline:
        close_cycle(past)

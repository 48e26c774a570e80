"""A small organization in which every role has something to do through the API.

VA > Veterans Benefits Administration (the manager) > Compensation Service > Boston Regional Office
(the employee, who answered last week and owns a key result); VA > Veterans Health Administration, where
the request is paused (the reviewer works there). DHS has its own objective, outside most scopes.
The agency administrator, the directive owner and the auditor hold grants and are not on the roster.
One weekly directive with a stock answer: last week closed, this week open until tomorrow.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from lastweek.access.models import Role, Scope
from lastweek.access.tokens import create_token
from lastweek.directives.actions import close_cycle, open_cycle, set_policy
from lastweek.directives.models import Assignment, Cycle, Mode, StockAnswer
from lastweek.goals.actions import check_in, save_objective
from lastweek.goals.models import KeyResult, Metric, Objective
from lastweek.org.models import Employee
from lastweek.reports import submit
from tests.factories import (
    AgencyFactory,
    DirectiveFactory,
    EmployeeFactory,
    RoleGrantFactory,
    UnitFactory,
    UserFactory,
)

ANONYMOUS = "anonymous"
LAST_WEEK, THIS_WEEK = "2026-W47", "2026-W48"


def build_world() -> dict[str, AbstractBaseUser]:
    """Create the organization; return the account acting in each role (every `Role`)."""
    va = AgencyFactory(code="VA", name="Department of Veterans Affairs")
    dhs = AgencyFactory(code="DHS", name="Department of Homeland Security")
    vba = UnitFactory(agency=va, name="Veterans Benefits Administration")
    boston = UnitFactory(parent=UnitFactory(parent=vba, name="Compensation Service"), name="Boston")
    vha = UnitFactory(agency=va, name="Veterans Health Administration")
    manager = _person("manager", vba)
    employee = _person("employee", boston, manager=manager)
    _person("colleague", boston, manager=manager)
    reviewer = _person("reviewer", vha)
    _person("officer", UnitFactory(agency=dhs, name="Transportation Security Administration"))
    users = {
        Role.EMPLOYEE: employee.user,
        Role.MANAGER: manager.user,
        Role.AGENCY_ADMIN: _grant(UserFactory(username="agency-admin"), Role.AGENCY_ADMIN, agency=va),
        Role.DIRECTIVE_OWNER: _grant(UserFactory(username="owner"), Role.DIRECTIVE_OWNER, agency=va),
        Role.REVIEWER: _grant(reviewer.user, Role.REVIEWER, unit=vba),
        Role.AUDITOR: _grant(UserFactory(username="auditor"), Role.AUDITOR),
    }
    _weeks(va, vha, employee)
    _objectives(va, vba, dhs, employee)
    return users


def tokens(users: dict[str, AbstractBaseUser]) -> dict[str, str | None]:
    """A personal API token for each role's account; none for the anonymous caller."""
    found: dict[str, str | None] = {ANONYMOUS: None}
    for role, user in users.items():
        found[role] = create_token(user, "contract fuzzing")[1]
    return found


def _person(username: str, unit, manager: Employee | None = None) -> Employee:
    return EmployeeFactory(
        unit=unit, manager=manager, user=UserFactory(username=username), first_name=username.title()
    )


def _grant(user: AbstractBaseUser, role: str, **target) -> AbstractBaseUser:
    """`user` holds `role` over the agency or unit given, or the whole organization."""
    scope = Scope.AGENCY if "agency" in target else Scope.UNIT if "unit" in target else Scope.ORGANIZATION
    RoleGrantFactory(user=user, role=role, scope=scope, **target)
    return user


def _weeks(va, vha, employee: Employee) -> None:
    directive = DirectiveFactory(title="Weekly accomplishments", owner_agency=va)
    StockAnswer.objects.create(directive=directive, text="All of my activities are sensitive.")
    StockAnswer.objects.create(directive=directive, text="I was on leave all week.")
    set_policy(directive, unit=vha, mode=Mode.PAUSED, reason="Pending a legal review.", actor=None)
    last = open_cycle(directive, LAST_WEEK)
    assignment = Assignment.objects.select_related("cycle__directive").get(cycle=last, employee=employee)
    submit(
        assignment,
        ["Decided 40 compensation claims", "Trained two new colleagues"],
        channel="web",
        received_at=last.deadline - dt.timedelta(hours=1),
    )
    close_cycle(last)
    this = open_cycle(directive, THIS_WEEK)
    deadline = timezone.now() + dt.timedelta(days=1)
    Cycle.objects.filter(pk=this.pk).update(deadline=deadline, closes_at=deadline + dt.timedelta(days=4))
    Assignment.objects.filter(cycle=this, due_at__isnull=False).update(due_at=deadline)


def _objectives(va, vba, dhs, employee: Employee) -> None:
    agency_wide = _objective(va, None, "Veterans get decisions faster", Metric.NUMBER)
    _objective(va, vba, "Clear the compensation backlog", Metric.PERCENTAGE, agency_wide, owner=employee)
    _objective(dhs, None, "Shorter airport lines", Metric.NUMBER)


def _objective(agency, unit, title: str, metric: str, supports=None, owner=None) -> Objective:
    target = 100 if metric == Metric.PERCENTAGE else 50_000
    results = [
        KeyResult(title=f"{title}: measured", metric=metric, target_value=Decimal(target), owner=owner),
        KeyResult(title=f"{title}: tool live", metric=Metric.YES_NO, target_value=Decimal(1)),
    ]
    made = save_objective(
        Objective(agency=agency, unit=unit, period="2026-Q4", title=title),
        results,
        [supports.key_results.first()] if supports else [],
        actor=None,
    )
    check_in(made.key_results.first(), Decimal(10), confidence=6, actor=None)
    return made

"""One small agency with one open cycle, and a person for every status.

VA > Veterans Benefits Administration (director) > Compensation Service (chief) > Boston Regional Office
VA > Veterans Health Administration: paused by the agency for this directive
VA > Office of Public Affairs: voluntary
Direct reports: director ← analyst, chief, planner (on leave); chief ← processor, clerk, auditor-trainee
(exempt: classified duties), courier, typist.
Outsider: works at another agency (DHS) and manages someone there.
"""

from __future__ import annotations

import datetime as dt

import pytest

from lastweek.directives.actions import grant_exemption, open_cycle, set_policy
from lastweek.directives.models import Assignment, Exemption, Mode
from lastweek.org.models import Employee
from lastweek.reports import submit
from tests.factories import DirectiveFactory, EmployeeFactory, UserFactory

WEEK = "2026-W48"


@pytest.fixture
def people(vba, compensation, boston, vha, public_affairs) -> dict[str, Employee]:
    def person(key: str, unit, manager=None, **fields) -> Employee:
        return EmployeeFactory(
            unit=unit, manager=manager, first_name=key.title(), email=f"{key}@va.example.gov", **fields
        )

    director = person("director", vba, user=UserFactory(username="director"), title="Director")
    chief = person("chief", compensation, director, user=UserFactory(username="chief"), title="Chief")
    found = {
        "director": director,
        "analyst": person("analyst", vba, director),
        "chief": chief,
        "planner": person("planner", vba, director, status=Employee.Status.ON_LEAVE),
        "processor": person("processor", boston, chief, user=UserFactory(username="processor")),
        "clerk": person("clerk", boston, chief),
        "trainee": person("trainee", boston, chief),
        "courier": person("courier", boston, chief),
        "typist": person("typist", boston, chief),
        "nurse": person("nurse", vha),
        "spokesperson": person("spokesperson", public_affairs),
        "writer": person("writer", public_affairs),
    }
    return found


@pytest.fixture
def directive(db):
    return DirectiveFactory(title="Weekly accomplishments")


@pytest.fixture
def cycle(directive, people, vha, public_affairs, agency):
    set_policy(directive, unit=vha, mode=Mode.PAUSED, reason="Paused pending a legal review.", actor=None)
    set_policy(directive, unit=public_affairs, mode=Mode.VOLUNTARY, reason="Voluntary pilot.", actor=None)
    grant_exemption(
        people["trainee"],
        category=Exemption.Category.CLASSIFIED,
        starts_on=dt.date(2026, 1, 1),
        reason="Assigned to classified duties",
        actor=None,
    )
    return open_cycle(directive, WEEK)


def assignment_of(cycle, employee) -> Assignment:
    return Assignment.objects.get(cycle=cycle, employee=employee)


def answer(cycle, employee, *, late: bool = False, bullets=("Closed 40 claims",)):
    """`employee` answers, an hour before the deadline or a day after it."""
    shift = dt.timedelta(days=1) if late else -dt.timedelta(hours=1)
    return submit(
        assignment_of(cycle, employee), list(bullets), channel="web", received_at=cycle.deadline + shift
    )


@pytest.fixture
def answered(cycle, people):
    """The week as the tests know it: on time, late, auto-reply only, bounced, voluntary answered."""
    answer(cycle, people["director"])
    answer(cycle, people["analyst"])
    answer(cycle, people["processor"], bullets=["=cmd|' /C calc'!A0", "Decided 12 appeals"])
    answer(cycle, people["clerk"], late=True)
    answer(cycle, people["spokesperson"])
    Assignment.objects.filter(cycle=cycle, employee=people["courier"]).update(auto_reply_at=cycle.deadline)
    Assignment.objects.filter(cycle=cycle, employee=people["typist"]).update(bounced_at=cycle.opens_at)
    return cycle


@pytest.fixture
def after_deadline(cycle) -> dt.datetime:
    return cycle.deadline + dt.timedelta(hours=2)

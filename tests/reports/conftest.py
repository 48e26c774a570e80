"""One agency, one weekly directive with a stock answer and an open week whose deadline the tests move.

Personas: Casey, a claims processor who answers; Morgan, Casey's manager; Pat, in a unit that paused the
request; Robin, exempt for classified duties; and an outsider employed by another agency.
"""

import datetime as dt

import pytest
from django.utils import timezone

from lastweek.directives.actions import open_cycle, set_policy
from lastweek.directives.models import Assignment, Cycle, Mode, StockAnswer
from tests.factories import DirectiveFactory, EmployeeFactory, UnitFactory, UserFactory

WEEK = "2026-W48"
STOCK = "All of my activities are sensitive."
PASSWORD = "correct horse battery staple"


def move_deadline(cycle: Cycle, when: dt.datetime) -> None:
    """Put the week's deadline (and everyone's due time) at `when`: the tests' clock."""
    Cycle.objects.filter(pk=cycle.pk).update(deadline=when, closes_at=when + dt.timedelta(days=4))
    Assignment.objects.filter(cycle=cycle, due_at__isnull=False).update(due_at=when)
    cycle.refresh_from_db()


@pytest.fixture
def unit(agency):
    return UnitFactory(agency=agency, name="Boston Regional Office")


@pytest.fixture
def paused_unit(agency):
    return UnitFactory(agency=agency, name="Office of General Counsel")


@pytest.fixture
def morgan(unit):
    return EmployeeFactory(unit=unit, user=UserFactory(username="morgan"), first_name="Morgan")


@pytest.fixture
def casey(unit, morgan):
    return EmployeeFactory(unit=unit, manager=morgan, user=UserFactory(username="casey"), first_name="Casey")


@pytest.fixture
def pat(paused_unit):
    return EmployeeFactory(unit=paused_unit, user=UserFactory(username="pat"), first_name="Pat")


@pytest.fixture
def outsider(other_agency):
    unit = UnitFactory(agency=other_agency)
    return EmployeeFactory(unit=unit, user=UserFactory(username="outsider"), first_name="Outsider")


@pytest.fixture
def directive(db):
    made = DirectiveFactory(title="Weekly accomplishments", max_bullets=3, max_bullet_length=80)
    StockAnswer.objects.create(directive=made, text=STOCK)
    return made


@pytest.fixture
def cycle(directive, casey, morgan, pat, outsider, paused_unit):
    """The open week, due tomorrow; Pat's unit paused it before it opened."""
    set_policy(directive, unit=paused_unit, mode=Mode.PAUSED, reason="Pending a legal review.", actor=None)
    opened = open_cycle(directive, WEEK)
    move_deadline(opened, timezone.now() + dt.timedelta(days=1))
    return opened


def assignment(cycle: Cycle, employee) -> Assignment:
    return Assignment.objects.select_related("cycle__directive").get(cycle=cycle, employee=employee)

"""The demo's weeks of history: earlier cycles, closed, with on-time, late and missing answers."""

import pytest

from lastweek.compliance.rollup import rollup
from lastweek.compliance.status import Status
from lastweek.directives.models import Cycle
from lastweek.reports.models import Report
from lastweek.synth.demo_history import demo_history
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(cycle, compensation):
    """Enough people in one unit for the shares to show."""
    for _ in range(60):
        EmployeeFactory(unit=compensation)


def test_the_history_adds_closed_earlier_weeks(crowd, directive):
    demo_history(directive, weeks=2, say=lambda *_: None)
    weeks = list(
        Cycle.objects.filter(directive=directive).order_by("week_start").values_list("week", "state")
    )
    assert weeks == [("2026-W46", "closed"), ("2026-W47", "closed"), ("2026-W48", "open")]


def test_an_earlier_week_has_answers_on_time_late_and_missing(crowd, directive):
    demo_history(directive, weeks=1, say=lambda *_: None)
    week = Cycle.objects.get(directive=directive, week="2026-W47")
    counts = rollup(week).by_status
    assert counts[Status.ON_TIME] and counts[Status.LATE] and counts[Status.MISSING]


def test_a_second_run_adds_no_answers(crowd, directive):
    demo_history(directive, weeks=1, say=lambda *_: None)
    before = Report.objects.count()
    demo_history(directive, weeks=1, say=lambda *_: None)
    assert Report.objects.count() == before

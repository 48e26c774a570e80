"""A small agency with OKRs at three levels, and the people who act on them.

VA (agency-wide objective VA-1) > Veterans Benefits Administration (VBA-1 supports VA-1.1)
   > Compensation Service (CS-1 supports VBA-1.1) > Boston Regional Office (no OKRs)
VA > Veterans Health Administration (VHA-1)
Personas: the VBA director (manages people), a claims processor in Boston (manages no one), the VA agency
administrator, and an outsider employed by another agency.
"""

from decimal import Decimal

import pytest

from lastweek.goals.actions import save_objective
from lastweek.goals.models import KeyResult, Metric, Objective
from tests.factories import EmployeeFactory, UserFactory

PERIOD = "2026-Q4"


def key_result(title: str, metric: str = Metric.NUMBER, start=0, target=100, current=0, **fields):
    return KeyResult(
        title=title,
        metric=metric,
        start_value=Decimal(start),
        target_value=Decimal(target),
        current_value=Decimal(current),
        **fields,
    )


def objective(unit=None, agency=None, title="Objective", supports=(), krs=None, **fields) -> Objective:
    made = Objective(
        agency=agency or unit.agency, unit=unit, period=fields.pop("period", PERIOD), title=title, **fields
    )
    return save_objective(made, krs or [key_result(f"{title} result")], supports, actor=None)


@pytest.fixture
def va_objective(agency):
    return objective(
        agency=agency,
        title="Veterans get decisions faster",
        krs=[
            key_result("Backlog down to 100,000 claims", start=200_000, target=100_000, current=180_000),
            key_result("Satisfaction", Metric.PERCENTAGE, start=70, target=90, current=75),
        ],
    )


@pytest.fixture
def vba_objective(vba, va_objective):
    return objective(
        vba,
        title="Clear the compensation backlog",
        supports=[va_objective.key_results.get(position=1)],
        krs=[
            key_result("Claims decided", target=50_000, current=10_000),
            key_result("New rating tool live", Metric.YES_NO, start=0, target=1),
        ],
    )


@pytest.fixture
def compensation_objective(compensation, vba_objective):
    return objective(
        compensation,
        title="Automate evidence gathering",
        supports=[vba_objective.key_results.get(position=1)],
        krs=[key_result("Pilots finished", Metric.MILESTONE, start=0, target=4, current=1)],
    )


@pytest.fixture
def director(vba):
    user = UserFactory(username="director")
    boss = EmployeeFactory(unit=vba, user=user, title="Director")
    EmployeeFactory(unit=vba, manager=boss)
    return user


@pytest.fixture
def processor(boston, director):
    user = UserFactory(username="processor")
    EmployeeFactory(unit=boston, user=user, manager=director.employee, title="Claims Processor")
    return user


def answer(employee, bullets, week="2026-W48"):
    """A submitted weekly answer of `employee`; returns its bullets in order."""
    import datetime as dt

    from lastweek.directives.actions import open_cycle
    from lastweek.directives.models import Assignment, Directive
    from lastweek.reports import submit
    from lastweek.reports.models import Bullet
    from tests.factories import DirectiveFactory

    directive = Directive.objects.first() or DirectiveFactory()
    cycle = directive.cycles.filter(week=week).first() or open_cycle(directive, week)
    assignment = Assignment.objects.get(cycle=cycle, employee=employee)
    receipt = submit(assignment, bullets, channel="web", received_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    return list(Bullet.objects.filter(report_id=receipt.report_id).order_by("position"))

"""reports.submit(): validation, deadline rules across time zones, the latest on-time answer wins,
idempotency per source message, stock answers and policy."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from lastweek.directives.actions import close_cycle, open_cycle, set_policy
from lastweek.directives.models import Assignment, Directive, Mode, StockAnswer
from lastweek.reports import submit
from lastweek.reports.actions import SubmissionError
from lastweek.reports.models import Bullet, Report
from tests.factories import DirectiveFactory, EmployeeFactory, UnitFactory

HONOLULU, NEW_YORK = ZoneInfo("Pacific/Honolulu"), ZoneInfo("America/New_York")
# 2026-W48 is due Monday 30 November 2026, 23:59.
MONDAY_NIGHT = dt.datetime(2026, 11, 30, 22, 0)
TUESDAY_MORNING = dt.datetime(2026, 12, 1, 9, 0)


@pytest.fixture
def people(agency):
    unit = UnitFactory(agency=agency)
    return {
        "hawaii": EmployeeFactory(unit=unit, agency=agency, time_zone="Pacific/Honolulu"),
        "new_york": EmployeeFactory(unit=unit, agency=agency, time_zone="America/New_York"),
    }


def assignment_of(employee, directive=None, week="2026-W48") -> Assignment:
    directive = directive or DirectiveFactory()
    cycle = directive.cycles.filter(week=week).first() or open_cycle(directive, week)
    return Assignment.objects.get(cycle=cycle, employee=employee)


def test_an_answer_is_stored_with_its_bullets_and_a_receipt(people):
    assignment = assignment_of(people["new_york"])
    receipt = submit(assignment, ["Closed 14 claims", "  ", "Trained two new staff"], channel="web")
    report = Report.objects.get(pk=receipt.report_id)
    assert list(report.bullets.values_list("position", "text")) == [
        (1, "Closed 14 claims"),
        (2, "Trained two new staff"),
    ]
    assert receipt.receipt_code == report.receipt_code and len(receipt.receipt_code) == 10
    assert report.is_current and receipt.bullets == 2


@pytest.mark.parametrize("bullets", [[], ["", "   "], ["\n"]])
def test_an_empty_answer_is_refused_and_nothing_is_stored(people, bullets):
    with pytest.raises(SubmissionError) as error:
        submit(assignment_of(people["new_york"]), bullets, channel="web")
    assert error.value.code == "empty"
    assert not Report.objects.exists()


def test_more_bullets_than_allowed_are_refused_on_the_web_and_flagged_by_email(people):
    assignment = assignment_of(people["new_york"])
    six = [f"Item {n}" for n in range(6)]
    with pytest.raises(SubmissionError, match="at most 5"):
        submit(assignment, six, channel="web")
    receipt = submit(assignment, six, channel="email", source_id="<m1@example.gov>", strict=False)
    assert receipt.exceeds_max_bullets and receipt.bullets == 6


def test_an_over_long_bullet_is_refused_with_its_position(people):
    with pytest.raises(SubmissionError) as error:
        submit(assignment_of(people["new_york"]), ["ok", "x" * 601], channel="api")
    assert (error.value.code, error.value.field) == ("bullet_too_long", "bullets.2")


def test_one_eastern_deadline_makes_a_hawaii_answer_on_monday_evening_late(people):
    assignment = assignment_of(people["hawaii"])
    evening = MONDAY_NIGHT.replace(hour=20, tzinfo=HONOLULU)  # Tuesday 01:00 Eastern
    assert not submit(assignment, ["Surveyed reef sites"], channel="web", received_at=evening).on_time


def test_a_deadline_in_each_persons_zone_gives_hawaii_its_own_monday_night(people):
    directive = DirectiveFactory(deadline_basis=Directive.DeadlineBasis.EMPLOYEE)
    hawaii = assignment_of(people["hawaii"], directive)
    new_york = assignment_of(people["new_york"], directive)
    in_hawaii = MONDAY_NIGHT.replace(tzinfo=HONOLULU)  # Tuesday 08:00 UTC
    assert submit(hawaii, ["Surveyed reef sites"], channel="web", received_at=in_hawaii).on_time
    assert not submit(new_york, ["Filed the report"], channel="web", received_at=in_hawaii).on_time
    assert hawaii.due_at == dt.datetime(2026, 12, 1, 9, 59, tzinfo=dt.UTC)


def test_the_latest_on_time_answer_counts_and_a_late_one_never_replaces_it(people):
    assignment = assignment_of(people["new_york"])
    first = submit(
        assignment, ["Draft"], channel="web", received_at=MONDAY_NIGHT.replace(hour=9, tzinfo=NEW_YORK)
    )
    second = submit(assignment, ["Final"], channel="web", received_at=MONDAY_NIGHT.replace(tzinfo=NEW_YORK))
    late = submit(
        assignment, ["Afterthought"], channel="web", received_at=TUESDAY_MORNING.replace(tzinfo=NEW_YORK)
    )
    assert (first.on_time, second.on_time, late.on_time) == (True, True, False)
    current = Report.objects.get(assignment=assignment, is_current=True)
    assert current.pk == second.report_id
    assert Report.objects.filter(assignment=assignment).count() == 3  # history kept
    assert not late.is_current


def test_an_on_time_answer_arriving_after_a_newer_one_does_not_win(people):
    assignment = assignment_of(people["new_york"])
    newer = submit(
        assignment,
        ["Final"],
        channel="email",
        source_id="<b@x>",
        received_at=MONDAY_NIGHT.replace(tzinfo=NEW_YORK),
    )
    older = submit(
        assignment,
        ["Draft"],
        channel="email",
        source_id="<a@x>",
        received_at=MONDAY_NIGHT.replace(hour=8, tzinfo=NEW_YORK),
    )
    assert newer.is_current and not older.is_current
    assert Report.objects.get(is_current=True).pk == newer.report_id


def test_a_late_answer_counts_when_there_is_no_on_time_one(people):
    assignment = assignment_of(people["new_york"])
    receipt = submit(
        assignment, ["Late"], channel="web", received_at=TUESDAY_MORNING.replace(tzinfo=NEW_YORK)
    )
    assert receipt.is_current and not receipt.on_time


def test_the_same_source_message_is_stored_once(people):
    assignment = assignment_of(people["new_york"])
    first = submit(assignment, ["Closed claims"], channel="email", source_id="<abc@mail.va.gov>")
    again = submit(assignment, ["Closed claims"], channel="email", source_id="<abc@mail.va.gov>")
    assert again.duplicate and again.report_id == first.report_id
    assert Report.objects.count() == 1 and Bullet.objects.count() == 1


def test_a_stock_answer_is_recognised_whatever_the_case_spacing_or_quotes(people):
    directive = DirectiveFactory()
    StockAnswer.objects.create(directive=directive, text="All of my activities are sensitive.")
    assignment = assignment_of(people["new_york"], directive)
    receipt = submit(assignment, ["  - all of my  activities are sensitive  "], channel="web")
    assert receipt.stock_answer == "All of my activities are sensitive."
    other = submit(assignment, ["All of my activities are sensitive, mostly"], channel="api")
    assert other.stock_answer is None


def test_a_paused_persons_answer_is_kept_as_a_voluntary_one(people, agency):
    directive = DirectiveFactory()
    assignment = assignment_of(people["new_york"], directive)
    set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Agency review", actor=None)
    assignment.refresh_from_db()
    receipt = submit(assignment, ["Work"], channel="web")
    assert receipt.asked is False and "never counts for or against you" in receipt.message
    assert Report.objects.filter(assignment=assignment).count() == 1


def test_a_closed_cycle_takes_no_answers(people):
    assignment = assignment_of(people["new_york"])
    close_cycle(assignment.cycle)
    assignment.refresh_from_db()
    with pytest.raises(SubmissionError) as error:
        submit(assignment, ["Work"], channel="web")
    assert error.value.code == "closed"


def test_past_its_closing_time_a_week_takes_no_answers_before_the_schedule_marks_it_closed(people):
    assignment = assignment_of(people["new_york"])
    closes_at = assignment.cycle.closes_at
    late = submit(assignment, ["Work"], channel="web", received_at=closes_at)
    assert not late.on_time
    with pytest.raises(SubmissionError) as error:
        submit(assignment, ["More"], channel="web", received_at=closes_at + dt.timedelta(seconds=1))
    assert error.value.code == "closed"
    assert Report.objects.filter(assignment=assignment).count() == 1


def test_someone_back_from_leave_is_on_time_within_the_grace_period(people):
    from lastweek.directives.actions import grant_exemption

    person = people["new_york"]
    grant_exemption(
        person,
        category="leave",
        starts_on=dt.date(2026, 11, 20),
        ends_on=dt.date(2026, 12, 2),
        reason="Leave",
        actor=None,
    )
    assignment = assignment_of(person)
    thursday = dt.datetime(2026, 12, 3, 17, 0, tzinfo=NEW_YORK)
    assert submit(assignment, ["Caught up after leave"], channel="web", received_at=thursday).on_time


def test_an_exempt_person_may_still_answer_and_the_answer_is_recorded(people):
    from lastweek.directives.actions import grant_exemption

    person = people["new_york"]
    grant_exemption(
        person, category="classified", starts_on=dt.date(2026, 11, 1), reason="Classified duties", actor=None
    )
    assignment = assignment_of(person)
    assert assignment.mode == Mode.EXEMPT
    monday = MONDAY_NIGHT.replace(tzinfo=NEW_YORK)
    receipt = submit(assignment, ["Briefed the program office"], channel="web", received_at=monday)
    assert receipt.on_time and Report.objects.get(pk=receipt.report_id).is_current

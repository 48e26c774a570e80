"""The status of every kind of assignment, and the rates: compliance/status.py's rule."""

import datetime as dt

import pytest

from lastweek.compliance.status import Status, count_rows, status_table
from tests.compliance.conftest import answer

pytestmark = pytest.mark.django_db

EXPECTED_AFTER_DEADLINE = {
    "director": Status.ON_TIME,
    "analyst": Status.ON_TIME,
    "processor": Status.ON_TIME,
    "clerk": Status.LATE,
    "chief": Status.MISSING,
    "courier": Status.AUTO_REPLY,
    "typist": Status.BOUNCED,
    "planner": Status.ON_LEAVE,
    "trainee": Status.EXEMPT,
    "nurse": Status.PAUSED,
    "spokesperson": Status.VOLUNTARY_ANSWERED,
    "writer": Status.VOLUNTARY_NOT_ANSWERED,
}


def statuses(cycle, now) -> dict[str, Status]:
    return {row.first_name.lower(): row.status for row in status_table(cycle, now=now)}


@pytest.mark.parametrize(("person", "expected"), sorted(EXPECTED_AFTER_DEADLINE.items()))
def test_each_kind_of_assignment_has_its_status_after_the_deadline(
    answered, after_deadline, person, expected
):
    assert statuses(answered, after_deadline)[person] == expected


def test_every_status_kind_occurs_in_the_week(answered, after_deadline):
    assert set(statuses(answered, after_deadline).values()) == set(Status) - {Status.NOT_YET_DUE}


def test_a_required_person_without_an_answer_is_not_yet_due_before_the_deadline(answered):
    before = answered.deadline - dt.timedelta(hours=3)
    found = statuses(answered, before)
    assert (found["chief"], found["courier"], found["typist"]) == (Status.NOT_YET_DUE,) * 3


def test_the_compliance_rate_counts_only_required_assignments_whose_deadline_passed(answered, after_deadline):
    counts = count_rows(status_table(answered, now=after_deadline), after_deadline)
    # due: director, analyst, processor (on time), clerk (late), chief, courier, typist (not answered)
    assert (counts.due, counts.answered_due, counts.on_time_due) == (7, 4, 3)
    assert counts.compliance_rate == pytest.approx(4 / 7)


def test_nothing_is_due_and_there_is_no_rate_before_the_deadline(cycle, people):
    answer(cycle, people["director"])
    before = cycle.deadline - dt.timedelta(minutes=30)
    counts = count_rows(status_table(cycle, now=before), before)
    assert counts.by_status[Status.ON_TIME] == 1
    assert counts.due == 0
    assert counts.compliance_rate is None


def test_an_unanswered_voluntary_assignment_is_never_counted_as_not_answered(answered, after_deadline):
    counts = count_rows(status_table(answered, now=after_deadline), after_deadline)
    assert counts.by_status[Status.VOLUNTARY_NOT_ANSWERED] == 1
    assert counts.not_answered == 3  # chief, courier, typist: the writer is not among them

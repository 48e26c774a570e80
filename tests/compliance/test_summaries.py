"""The materialised counts agree with counting the assignments live, and follow answers as they arrive."""

import pytest
from django.db.models import Q

from lastweek.compliance.models import StaleUnit, UnitCycleCount
from lastweek.compliance.rollup import rollup
from lastweek.compliance.status import Status, count_rows, status_table
from lastweek.compliance.summaries import refresh_cycle, refresh_stale
from tests.compliance.conftest import answer

pytestmark = pytest.mark.django_db


def live(cycle, now, where=None):
    return count_rows(status_table(cycle, now=now, where=where), now)


def test_a_units_rollup_counts_its_whole_subtree_as_a_live_count_does(answered, after_deadline, vba):
    refresh_cycle(answered)
    counted = rollup(answered, unit_id=vba.pk, now=after_deadline)
    expected = live(answered, after_deadline, where=Q(unit__path__startswith=vba.path))
    assert counted.as_dict() == expected.as_dict()
    assert counted.total == 9


def test_the_agency_rollup_counts_everyone_in_the_agency(answered, after_deadline, agency):
    refresh_cycle(answered)
    assert (
        rollup(answered, agency_id=agency.pk, now=after_deadline).as_dict()
        == live(answered, after_deadline).as_dict()
    )


def test_an_answer_marks_its_unit_stale(cycle, people, boston):
    refresh_cycle(cycle)
    answer(cycle, people["courier"])
    assert list(StaleUnit.objects.values_list("cycle_id", "unit_id")) == [(cycle.pk, boston.pk)]


def test_a_recount_carries_a_new_answer_up_to_the_unit_above_and_the_agency(
    answered, after_deadline, vba, agency, people
):
    refresh_cycle(answered)
    answer(answered, people["chief"], late=True)
    assert refresh_stale(answered) == 1
    assert rollup(answered, unit_id=vba.pk, now=after_deadline).by_status[Status.LATE] == 2
    assert rollup(answered, agency_id=agency.pk, now=after_deadline).by_status[Status.MISSING] == 0


def test_recounting_gives_the_same_rows_as_rebuilding(answered, people):
    refresh_cycle(answered)
    answer(answered, people["chief"], late=True)
    answer(answered, people["typist"])
    refresh_stale(answered)
    fields = (
        "scope",
        "agency_id",
        "unit_id",
        "mode",
        "answer",
        "on_leave",
        "auto_reply",
        "bounced",
        "due_at",
        "count",
    )
    recounted = sorted(UnitCycleCount.objects.filter(cycle=answered).values_list(*fields), key=repr)
    refresh_cycle(answered)
    rebuilt = sorted(UnitCycleCount.objects.filter(cycle=answered).values_list(*fields), key=repr)
    assert recounted == rebuilt


def test_a_rollup_builds_the_counts_of_a_cycle_that_has_none(answered, after_deadline, agency):
    assert rollup(answered, agency_id=agency.pk, now=after_deadline).total == 12


def test_a_read_recounts_a_few_stale_units_itself(answered, after_deadline, agency, people):
    refresh_cycle(answered)
    answer(answered, people["chief"], late=True)
    assert rollup(answered, agency_id=agency.pk, now=after_deadline).by_status[Status.LATE] == 2


def test_a_read_leaves_a_large_backlog_to_the_worker(answered, after_deadline, agency, people, monkeypatch):
    monkeypatch.setattr("lastweek.compliance.summaries.CATCH_UP_ON_READ", 0)
    refresh_cycle(answered)
    answer(answered, people["chief"], late=True)
    assert rollup(answered, agency_id=agency.pk, now=after_deadline).by_status[Status.LATE] == 1
    assert StaleUnit.objects.filter(cycle_id=answered.pk).count() == 1

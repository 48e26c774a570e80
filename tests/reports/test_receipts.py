"""Receipt codes are unique by the database's index: a code drawn twice is drawn again, nothing lost."""

import pytest

from lastweek.reports import actions, submit
from lastweek.reports.models import Report
from tests.reports.conftest import assignment

pytestmark = pytest.mark.django_db


def test_a_receipt_code_drawn_twice_is_drawn_again(casey, morgan, cycle, monkeypatch):
    first = submit(assignment(cycle, morgan), ["Work"], channel="web")
    codes = iter([first.receipt_code, "7QK2M9XR4T"])
    monkeypatch.setattr(actions, "get_random_string", lambda length, alphabet: next(codes))
    again = submit(assignment(cycle, casey), ["More work"], channel="web")
    assert again.receipt_code == "7QK2M9XR4T"
    assert Report.objects.count() == 2 and Report.objects.get(pk=again.report_id).bullets.count() == 1


def test_a_receipt_names_its_week_without_another_query(casey, cycle, django_assert_max_num_queries):
    target = assignment(cycle, casey)
    with django_assert_max_num_queries(7):
        receipt = submit(target, ["Work"], channel="web")
    assert receipt.week == cycle.week

"""submit_many() writes the rows submit() would write for the same answers, one after another in the same
order: the same reports and bullets, deadline rule, current answer, stock answers, flags, refusals and
idempotency per source message, and the compliance marks its signal leaves."""

import datetime as dt

import pytest

from lastweek.directives.actions import close_cycle
from lastweek.directives.models import Assignment, Cycle, Mode, Source, StockAnswer
from lastweek.reports import submit
from lastweek.reports.actions import SubmissionError
from lastweek.reports.bulk import Submission, load_assignments, submit_many
from lastweek.reports.models import Bullet, Report
from tests.directives.test_outbound import DEADLINE, open_test_cycle
from tests.factories import EmployeeFactory

EARLY, LATE = DEADLINE - dt.timedelta(days=1), DEADLINE + dt.timedelta(hours=5)
STOCK = "All of my activities are sensitive."


@pytest.fixture
def world(db):
    cycle = open_test_cycle(
        {"alice": Mode.REQUIRED, "bob": Mode.REQUIRED, "carol": Mode.PAUSED, "dave": Mode.VOLUNTARY}
    )
    StockAnswer.objects.create(directive=cycle.directive, text=STOCK)
    _closed_week_for_erin(cycle)
    people = {a.employee.first_name.lower(): a for a in Assignment.objects.select_related("employee")}
    Assignment.objects.filter(pk=people["dave"].pk).update(due_at=None)
    # Bob answered earlier through the web: the batch must respect (and may supersede) that answer.
    submit(people["bob"], ["Drafted the budget memo"], channel="email", received_at=EARLY, source_id="pre@x")
    return people


def _closed_week_for_erin(cycle) -> None:
    alice = cycle.assignments.get(employee__first_name="Alice")
    closed = Cycle.objects.create(
        directive=cycle.directive,
        week="2026-W47",
        week_start=cycle.week_start - dt.timedelta(days=7),
        opens_at=cycle.opens_at - dt.timedelta(days=7),
        deadline=cycle.deadline - dt.timedelta(days=7),
        closes_at=cycle.closes_at - dt.timedelta(days=7),
        opened_by="test",
    )
    erin = EmployeeFactory(unit_id=alice.unit_id, first_name="Erin", email="erin@example.gov")
    Assignment.objects.create(
        cycle=closed,
        employee=erin,
        agency_id=alice.agency_id,
        unit_id=alice.unit_id,
        mode=Mode.REQUIRED,
        source=Source.DIRECTIVE,
        due_at=closed.deadline,
    )
    close_cycle(closed)


def answers(people) -> list[tuple[str, list[str], dt.datetime, str]]:
    six = [f"Item {n}" for n in range(6)]
    return [
        ("alice", ["Closed 14 claims", "Trained two staff"], EARLY, "a1@x"),
        ("alice", ["A late addition"], LATE, "a2@x"),  # late: the on-time answer stays current
        ("alice", ["  ", ""], EARLY, "a3@x"),  # empty: refused
        ("bob", ["Rewrote the budget memo"], EARLY + dt.timedelta(hours=2), "b1@x"),  # newer on time
        ("bob", ["Drafted the budget memo"], EARLY, "pre@x"),  # stored before: a duplicate
        ("carol", ["Paused but answered"], EARLY, "c1@x"),  # paused: refused
        ("dave", [f"• {STOCK}"], LATE, "d1@x"),  # no deadline (on leave); a stock answer
        ("dave", six, LATE, "d2@x"),  # more bullets than allowed: kept and flagged
        ("dave", six, LATE, "d2@x"),  # the same message twice in the batch
        ("erin", ["Too late"], LATE, "e1@x"),  # the week is closed: refused
        ("alice", ["No source id"], EARLY, ""),
    ]


def rows() -> list[tuple]:
    reports = Report.objects.order_by("received_at", "source_id", "id").values_list(
        "id",
        "assignment__employee__first_name",
        "cycle_id",
        "employee_id",
        "channel",
        "source_id",
        "received_at",
        "on_time",
        "is_current",
        "stock_answer_id",
        "exceeds_max_bullets",
        "submitted_by_id",
    )
    found = []
    for report_id, *fields in reports:
        bullets = list(Bullet.objects.filter(report_id=report_id).values_list("position", "text"))
        found.append((*fields, tuple(bullets)))
    return found


def outcome(result) -> tuple:
    if isinstance(result, SubmissionError):
        return ("refused", result.code, result.message)
    return (
        result.on_time,
        result.is_current,
        result.bullets,
        result.stock_answer,
        result.exceeds_max_bullets,
        result.duplicate,
        result.week,
    )


def one_by_one(people) -> list:
    results = []
    for name, bullets, received_at, source_id in answers(people):
        try:
            results.append(
                submit(
                    Assignment.objects.get(pk=people[name].pk),
                    bullets,
                    channel="email",
                    received_at=received_at,
                    source_id=source_id,
                    strict=False,
                )
            )
        except SubmissionError as error:
            results.append(error)
    return results


def in_bulk(people) -> list:
    loaded = load_assignments([a.pk for a in people.values()])
    batch = [
        Submission(loaded[people[name].pk], bullets, received_at, source_id)
        for name, bullets, received_at, source_id in answers(people)
    ]
    return submit_many(batch, channel="email", strict=False)


def reset_to_before(people) -> None:
    pre = Report.objects.get(source_id="pre@x")
    Bullet.objects.exclude(report=pre).delete()
    Report.objects.exclude(pk=pre.pk).delete()
    Report.objects.filter(pk=pre.pk).update(is_current=True)


def stale_units() -> set[tuple[int, int]]:
    from lastweek.compliance.models import StaleUnit

    return set(StaleUnit.objects.values_list("cycle_id", "unit_id"))


def test_submit_many_writes_the_rows_submit_writes_one_by_one(world):
    from lastweek.compliance.models import StaleUnit

    StaleUnit.objects.all().delete()
    sequential = one_by_one(world)
    expected, expected_stale = rows(), stale_units()
    reset_to_before(world)
    StaleUnit.objects.all().delete()
    bulk = in_bulk(world)
    assert expected_stale and stale_units() == expected_stale
    assert [row[1:] for row in rows()] == [row[1:] for row in expected]
    assert [outcome(result) for result in bulk] == [outcome(result) for result in sequential]


def test_submit_many_draws_distinct_receipt_codes_in_the_crockford_alphabet(world):
    codes = [r.receipt_code for r in in_bulk(world) if not isinstance(r, SubmissionError)]
    stored = set(Report.objects.values_list("receipt_code", flat=True))
    assert set(codes) <= stored and len(stored) == Report.objects.count()
    assert all(len(code) == 10 and code.isalnum() and code.isupper() for code in codes)


def test_submit_many_leaves_exactly_one_current_answer_per_person(world):
    in_bulk(world)
    current = Report.objects.filter(is_current=True).values_list("assignment_id", flat=True)
    assert sorted(current) == sorted(set(Report.objects.values_list("assignment_id", flat=True)))


def test_a_batch_that_meets_a_concurrent_writer_falls_back_to_submit_one_by_one(world, monkeypatch):
    from django.db import IntegrityError

    from lastweek.reports import bulk

    def clash(*args, **kwargs):
        raise IntegrityError("another writer stored the same source message")

    monkeypatch.setattr(bulk, "_insert", clash)
    results = in_bulk(world)
    assert outcome(results[0])[:2] == (True, True)
    assert Report.objects.filter(source_id="a1@x").count() == 1


def test_a_receipt_code_already_stored_is_caught_by_the_database_and_drawn_again(world, monkeypatch):
    # The batch does not look its codes up first: the unique index refuses a stored one, and the batch
    # is stored one by one through submit(), which draws a fresh code.
    from lastweek.reports import bulk

    stored = Report.objects.get()  # Bob's earlier answer
    draws = iter([stored.receipt_code])
    fresh = bulk._receipt_code
    monkeypatch.setattr(bulk, "_receipt_code", lambda: next(draws, None) or fresh())
    one_by_one = []
    submit_one = bulk._submit_one
    monkeypatch.setattr(bulk, "_submit_one", lambda *args: one_by_one.append(args) or submit_one(*args))
    results = in_bulk(world)
    assert one_by_one, "the clash should have sent the batch through submit()"
    codes = list(Report.objects.values_list("receipt_code", flat=True))
    assert len(codes) == len(set(codes)) == Report.objects.count() > 2
    assert Report.objects.get(receipt_code=stored.receipt_code).pk == stored.pk
    new = [r for r in results if not isinstance(r, SubmissionError) and r.report_id != stored.pk]
    assert new and all(r.receipt_code != stored.receipt_code for r in new)


def test_load_assignments_reads_deadlines_as_the_orm_does(world):
    # PostgreSQL reads them as microseconds since 1970: the same instants, to the microsecond.
    odd = DEADLINE + dt.timedelta(microseconds=123_457)
    Assignment.objects.filter(pk=world["alice"].pk).update(due_at=odd)
    facts = load_assignments([a.pk for a in world.values()])
    assert facts[world["alice"].pk].due_at == odd and facts[world["dave"].pk].due_at is None
    for assignment in Assignment.objects.filter(pk__in=facts):
        assert facts[assignment.pk].due_at == assignment.due_at
        assert facts[assignment.pk].due_at is None or facts[assignment.pk].due_at.utcoffset() == dt.timedelta(
            0
        )

"""Answers for one person arriving at once (PostgreSQL, real connections in threads): every one is stored,
exactly one counts, and it is the latest."""

import datetime as dt
import threading

import pytest
from django.db import connections
from django.utils import timezone

from lastweek.reports import submit
from lastweek.reports.models import Report
from tests.reports.conftest import assignment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def submit_at_once(target, times: list[dt.datetime]) -> list[Exception]:
    """Submit one answer per time, each from its own thread and connection, all released together;
    the errors raised (a thread must not swallow a failure)."""
    start = threading.Barrier(len(times))
    errors = []

    def send(when: dt.datetime) -> None:
        try:
            start.wait()
            submit(target, [f"At {when.isoformat()}"], channel="api", received_at=when)
        except Exception as exc:  # reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(when,)) for when in times]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_simultaneous_answers_are_all_kept_and_the_latest_counts(casey, cycle):
    target = assignment(cycle, casey)
    base = timezone.now()
    times = [base + dt.timedelta(seconds=n) for n in range(8)]
    assert submit_at_once(target, times) == []
    reports = Report.objects.filter(employee=casey)
    assert reports.count() == 8
    assert [r.bullets.get().text for r in reports.filter(is_current=True)] == [f"At {times[7].isoformat()}"]


def test_answers_racing_in_waves_leave_exactly_one_current_the_best_one(casey, cycle):
    """Waves of simultaneous answers, on time and late mixed: whoever waits for the person's row lock
    reads with an older snapshot, and must still end with the one answer submit() says counts (the
    latest on-time one), never two and never an error."""
    target = assignment(cycle, casey)
    due = target.due_at
    sent = []
    for wave in range(4):
        # Late ones (after the due time) and on-time ones (before it) in one wave.
        times = [due + dt.timedelta(minutes=wave * 10 + n) for n in range(3)]
        times += [due - dt.timedelta(hours=4 - wave, minutes=n) for n in range(3)]
        sent += times
        assert submit_at_once(target, times) == []
    reports = Report.objects.filter(employee=casey)
    assert reports.count() == len(sent)
    best = max(when for when in sent if when <= due)
    assert [r.received_at for r in reports.filter(is_current=True)] == [best]

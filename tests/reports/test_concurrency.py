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


def test_simultaneous_answers_are_all_kept_and_the_latest_counts(casey, cycle):
    target = assignment(cycle, casey)
    base = timezone.now()
    start = threading.Barrier(8)
    errors = []

    def send(n: int) -> None:
        try:
            start.wait()
            submit(target, [f"Answer {n}"], channel="api", received_at=base + dt.timedelta(seconds=n))
        except Exception as exc:  # reported below; a thread must not swallow a failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    reports = Report.objects.filter(employee=casey)
    assert reports.count() == 8
    assert [r.bullets.get().text for r in reports.filter(is_current=True)] == ["Answer 7"]


def test_answers_racing_in_waves_leave_exactly_one_current_the_best_one(casey, cycle):
    """Waves of simultaneous answers, on time and late mixed: whoever waits for the person's row lock
    reads with an older snapshot, and must still end with the one answer submit() says counts (the
    latest on-time one), never two and never an error."""
    target = assignment(cycle, casey)
    due = target.due_at
    errors = []

    def send(start: threading.Barrier, when: dt.datetime) -> None:
        try:
            start.wait()
            submit(target, [f"At {when.isoformat()}"], channel="api", received_at=when)
        except Exception as exc:  # reported below; a thread must not swallow a failure
            errors.append(exc)
        finally:
            connections.close_all()

    sent = []
    for wave in range(4):
        start = threading.Barrier(6)
        # Late ones (after the due time) and on-time ones (before it) in one wave.
        times = [due + dt.timedelta(minutes=wave * 10 + n) for n in range(3)]
        times += [due - dt.timedelta(hours=4 - wave, minutes=n) for n in range(3)]
        sent += times
        threads = [threading.Thread(target=send, args=(start, when)) for when in times]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    reports = Report.objects.filter(employee=casey)
    assert reports.count() == len(sent)
    best = max(when for when in sent if when <= due)
    assert [r.received_at for r in reports.filter(is_current=True)] == [best]

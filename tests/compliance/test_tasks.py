"""The worker's compliance jobs: counts kept current, notices sent when due."""

import pytest

from lastweek.compliance.models import CycleSummary, StaleUnit
from lastweek.compliance.rollup import rollup
from lastweek.compliance.status import Status
from lastweek.compliance.tasks import refresh_counts, send_notices
from lastweek.directives.actions import set_policy
from lastweek.directives.models import Mode
from tests.compliance.conftest import answer

pytestmark = pytest.mark.django_db


def test_the_worker_builds_the_counts_of_an_open_cycle(cycle):
    assert refresh_counts.call_local() == {"rebuilt": 1, "units_recounted": 0}
    assert CycleSummary.objects.filter(cycle=cycle).exists()


def test_the_worker_recounts_the_unit_of_a_new_answer(cycle, people):
    refresh_counts.call_local()
    answer(cycle, people["clerk"])
    assert refresh_counts.call_local() == {"rebuilt": 0, "units_recounted": 1}
    assert not StaleUnit.objects.exists()


def test_a_mid_cycle_pause_recounts_only_the_units_it_changed(cycle, directive, compensation, after_deadline):
    refresh_counts.call_local()
    set_policy(
        directive, unit=compensation, mode=Mode.PAUSED, reason="Paused for a reorganization.", actor=None
    )
    changed_units = set(StaleUnit.objects.values_list("unit_id", flat=True))
    assert changed_units and changed_units <= set(compensation.subtree().values_list("pk", flat=True))
    assert refresh_counts.call_local() == {"rebuilt": 0, "units_recounted": len(changed_units)}
    assert (
        rollup(cycle, unit_id=compensation.pk, now=after_deadline).by_status[Status.PAUSED] == 6
    )  # paused covers the exempt trainee too


def test_the_worker_sends_each_manager_their_digest_once_the_deadline_passed(mail_sink, answered):
    # The cycle's week is in the past, so its deadline has passed.
    send_notices.call_local()
    send_notices.call_local()
    assert sorted(mail_sink.by_recipient()) == ["chief@va.example.gov", "director@va.example.gov"]


@pytest.mark.django_db(transaction=True)
def test_the_follow_loop_counts_a_new_answer_within_a_second(cycle, people):
    import threading
    import time

    from lastweek.compliance.summaries import follow, refresh_cycle

    refresh_cycle(cycle)
    stop = threading.Event()
    loop = threading.Thread(target=follow, args=(stop,), kwargs={"every": 0.05})
    loop.start()
    try:
        answer(cycle, people["clerk"])
        deadline = time.monotonic() + 5
        while StaleUnit.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        loop.join()
    assert not StaleUnit.objects.exists()
    counts = rollup(cycle, unit_id=people["clerk"].unit_id)
    assert counts.by_status[Status.ON_TIME] + counts.by_status[Status.LATE] == 1

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


def test_a_mid_cycle_pause_rebuilds_the_counts(cycle, directive, compensation, after_deadline):
    refresh_counts.call_local()
    set_policy(
        directive, unit=compensation, mode=Mode.PAUSED, reason="Paused for a reorganization.", actor=None
    )
    assert refresh_counts.call_local()["rebuilt"] == 1
    assert (
        rollup(cycle, unit_id=compensation.pk, now=after_deadline).by_status[Status.PAUSED] == 6
    )  # paused covers the exempt trainee too


def test_the_worker_sends_each_manager_their_digest_once_the_deadline_passed(mail_sink, answered):
    # The cycle's week is in the past, so its deadline has passed.
    send_notices.call_local()
    send_notices.call_local()
    assert sorted(mail_sink.by_recipient()) == ["chief@va.example.gov", "director@va.example.gov"]

"""Automatic replies and bounces the email intake records reach the compliance counts as answers do:
their units are marked stale in the same transaction, and the next recount shows the new status."""

import datetime as dt

import pytest

from lastweek.compliance.models import StaleUnit
from lastweek.compliance.rollup import rollup
from lastweek.compliance.status import Status
from lastweek.compliance.summaries import refresh_cycle, refresh_stale
from lastweek.intake.actions import process_stored, store_raw
from tests.intake.world import ON_TIME, assignment, bounce, open_week, out_of_office, request_mail

pytestmark = pytest.mark.django_db


def receive(raw: bytes) -> None:
    store_raw(raw, envelope_from="", envelope_to=[], received_at=ON_TIME)
    process_stored()


def test_an_out_of_office_reply_shows_as_auto_reply_only_after_the_next_recount():
    cycle = open_week()
    refresh_cycle(cycle)
    alice = assignment(cycle, "alice")
    receive(out_of_office(cycle, "alice", "ooo@x"))
    assert list(StaleUnit.objects.values_list("cycle_id", "unit_id")) == [(cycle.pk, alice.unit_id)]
    assert refresh_stale(cycle) == 1
    after_deadline = cycle.deadline + dt.timedelta(hours=1)
    counts = rollup(cycle, agency_id=alice.agency_id, now=after_deadline)
    assert counts.by_status[Status.AUTO_REPLY] == 1


def test_a_bounced_request_shows_as_bounced_after_the_next_recount():
    cycle = open_week()
    refresh_cycle(cycle)
    bob = assignment(cycle, "bob")
    receive(bounce(cycle, "bob", request_mail(bob), "dsn@mx"))
    assert refresh_stale(cycle) == 1
    counts = rollup(cycle, agency_id=bob.agency_id, now=cycle.deadline + dt.timedelta(hours=1))
    assert counts.by_status[Status.BOUNCED] == 1

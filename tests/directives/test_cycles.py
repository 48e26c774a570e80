"""Cycles: their dates and deadlines, the schedule, mid-cycle policy changes, succession and the CLI."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from lastweek.access.models import Role, Scope
from lastweek.audit.models import AuditEvent
from lastweek.directives.actions import (
    DirectiveError,
    close_cycle,
    open_cycle,
    preview_policy,
    run_schedule,
    set_policy,
)
from lastweek.directives.models import Assignment, AssignmentChange, Cycle, Directive, Mode, Source
from lastweek.directives.schedule import WeekError, cycle_times, parse_week
from tests.factories import DirectiveFactory, EmployeeFactory, RoleGrantFactory, UnitFactory, UserFactory

NEW_YORK_SCHEDULE = dict(
    opens_weekday=4, opens_time=dt.time(9), deadline_weekday=0, deadline_time=dt.time(23, 59), late_days=4
)


def times(week: str, **overrides):
    return cycle_times(
        week_start=parse_week(week), time_zone="America/New_York", **{**NEW_YORK_SCHEDULE, **overrides}
    )


def test_a_cycle_opens_friday_and_is_due_monday_night_eastern():
    cycle = times("2026-W48")
    assert cycle.opens_at == dt.datetime(2026, 11, 27, 14, 0, tzinfo=dt.UTC)  # 09:00 EST
    assert cycle.deadline == dt.datetime(2026, 12, 1, 4, 59, tzinfo=dt.UTC)  # Mon 23:59 EST


def test_a_deadline_on_a_federal_holiday_moves_to_the_next_business_day():
    # Week 7 of 2026: due Monday 16 February, Washington's Birthday → Tuesday 17 February.
    assert times("2026-W07").deadline == dt.datetime(2026, 2, 18, 4, 59, tzinfo=dt.UTC)


def test_a_holiday_before_a_weekend_skips_the_weekend():
    # Due Friday 3 July 2026 (Independence Day observed) → Monday 6 July.
    cycle = times("2026-W27", opens_weekday=0, deadline_weekday=4)
    assert cycle.deadline.astimezone(timezone.get_default_timezone()).date() == dt.date(2026, 7, 6)


def test_daylight_saving_time_is_respected():
    # Week 10 of 2026 is due Monday 9 March, the day after clocks go forward: 23:59 EDT = 03:59 UTC.
    assert times("2026-W10").deadline == dt.datetime(2026, 3, 10, 3, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["2026-48", "W48", "2026-W54", "2025-W53"])
def test_a_malformed_or_impossible_week_is_refused(text):
    with pytest.raises(WeekError):
        parse_week(text)


@pytest.fixture
def directive(db):
    return DirectiveFactory()


@pytest.fixture
def staff(agency):
    units = [UnitFactory(agency=agency) for _ in range(2)]
    return [EmployeeFactory(unit=unit, agency=agency) for unit in units for _ in range(3)]


def test_opening_a_week_twice_is_refused_with_the_existing_cycle(directive, staff):
    cycle = open_cycle(directive, "2026-W48")
    with pytest.raises(DirectiveError, match=f"already cycle {cycle.pk}"):
        open_cycle(directive, "2026-W48")


@pytest.mark.parametrize(
    "status", [Directive.Status.DRAFT, Directive.Status.SUSPENDED, Directive.Status.RETIRED]
)
def test_only_an_active_directive_opens_cycles(staff, status):
    with pytest.raises(DirectiveError, match="only an active directive"):
        open_cycle(DirectiveFactory(status=status), "2026-W48")


def test_the_schedule_opens_the_due_week_once_and_closes_it_after_the_late_window(directive, staff):
    friday = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
    assert run_schedule(friday - dt.timedelta(hours=2)).opened == []  # before 09:00 Eastern
    run = run_schedule(friday)
    assert [c.week for c in run.opened] == ["2026-W48"]
    assert run_schedule(friday + dt.timedelta(minutes=1)).opened == []
    cycle = run.opened[0]
    assert cycle.assignment_count == len(staff)
    after_late_window = cycle.deadline + dt.timedelta(days=4, minutes=1)
    assert run_schedule(after_late_window).closed == [cycle]
    cycle.refresh_from_db()
    assert cycle.state == Cycle.State.CLOSED


def test_a_directive_keeps_running_when_its_owner_leaves(directive, staff):
    owner = UserFactory(username="chief-of-staff")
    RoleGrantFactory(user=owner, role=Role.DIRECTIVE_OWNER, scope=Scope.ORGANIZATION)
    open_cycle(directive, "2026-W47", actor=owner)
    get_user_model().objects.filter(pk=owner.pk).update(is_active=False)
    owner.role_grants.update(revoked_at=timezone.now())
    run = run_schedule(dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC))
    assert [c.week for c in run.opened] == ["2026-W48"]
    assert run.opened[0].assignment_count == len(staff)
    assert run.opened[0].opened_by == "schedule"


def test_a_policy_changed_mid_cycle_updates_the_open_cycle_and_is_recorded(directive, staff, agency):
    admin = UserFactory(username="va-admin")
    cycle = open_cycle(directive, "2026-W48")
    policy = set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Union consultation", actor=admin)
    assignments = Assignment.objects.filter(cycle=cycle)
    assert set(assignments.values_list("mode", flat=True)) == {Mode.PAUSED}
    assert all(a.changed_at is not None and a.policy_id == policy.pk for a in assignments)
    changes = AssignmentChange.objects.filter(assignment__cycle=cycle)
    assert changes.count() == len(staff)
    assert {(c.old_mode, c.new_mode, c.policy_id, c.reason) for c in changes} == {
        (Mode.REQUIRED, Mode.PAUSED, policy.pk, "Union consultation")
    }
    assert AuditEvent.objects.filter(action="policy.set", object_id=str(policy.pk)).exists()
    assert AuditEvent.objects.get(action="policy.apply").detail == {"assignments_changed": len(staff)}


def test_a_mid_cycle_change_leaves_closed_cycles_alone(directive, staff, agency):
    old = open_cycle(directive, "2026-W47")
    close_cycle(old)
    set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Paused", actor=None)
    assert set(Assignment.objects.filter(cycle=old).values_list("mode", flat=True)) == {Mode.REQUIRED}


def test_a_unit_decision_mid_cycle_changes_only_that_subtree(directive, staff, agency):
    cycle = open_cycle(directive, "2026-W48")
    unit = staff[0].unit
    set_policy(directive, unit=unit, mode=Mode.VOLUNTARY, reason="Pilot", actor=None)
    by_unit = dict(Assignment.objects.filter(cycle=cycle).values_list("employee_id", "mode"))
    assert {by_unit[e.pk] for e in staff if e.unit_id == unit.pk} == {Mode.VOLUNTARY}
    assert {by_unit[e.pk] for e in staff if e.unit_id != unit.pk} == {Mode.REQUIRED}
    assert AssignmentChange.objects.count() == 3


def test_a_future_policy_is_applied_by_the_schedule_when_it_takes_effect(directive, staff, agency):
    cycle = open_cycle(directive, "2026-W48")
    start = timezone.now() + dt.timedelta(hours=1)
    policy = set_policy(
        directive, agency=agency, mode=Mode.VOLUNTARY, reason="Later", actor=None, effective_from=start
    )
    assert set(Assignment.objects.filter(cycle=cycle).values_list("mode", flat=True)) == {Mode.REQUIRED}
    assert run_schedule(start + dt.timedelta(minutes=1)).policies_applied == [policy]
    assert set(Assignment.objects.filter(cycle=cycle).values_list("source", flat=True)) == {Source.AGENCY}


def test_the_preview_counts_who_would_change_without_saving(directive, staff, agency):
    set_policy(directive, unit=staff[0].unit, mode=Mode.REQUIRED, reason="Keeps answering", actor=None)
    preview = preview_policy(directive, agency=agency, mode=Mode.PAUSED)
    assert preview.employees == 3
    assert preview.changes == [(Mode.REQUIRED, Mode.PAUSED, 3)]
    assert [unit for unit, _ in preview.units] == [staff[3].unit]
    assert [p.unit for p in preview.overridden_below] == [staff[0].unit]
    assert not directive.policies.filter(agency=agency).exists()


def test_a_policy_needs_a_reason(directive, agency):
    with pytest.raises(DirectiveError, match="reason"):
        set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="  ", actor=None)


def test_cycle_open_prints_the_cycle_id_and_list_shows_it(directive, staff):
    out = StringIO()
    call_command("cycle", "open", str(directive.pk), "--week", "2026-W48", stdout=out, stderr=StringIO())
    cycle = Cycle.objects.get()
    assert out.getvalue().strip() == str(cycle.pk)
    listing = StringIO()
    call_command("cycle", "list", stdout=listing)
    assert "2026-W48" in listing.getvalue()
    call_command("cycle", "close", str(cycle.pk), stdout=StringIO())
    cycle.refresh_from_db()
    assert cycle.state == Cycle.State.CLOSED


def test_cycle_open_explains_a_bad_week_or_directive(directive):
    with pytest.raises(CommandError, match="like 2026-W48"):
        call_command("cycle", "open", str(directive.pk), "--week", "48", stderr=StringIO())
    with pytest.raises(CommandError, match="No directive 999"):
        call_command("cycle", "open", "999", stderr=StringIO())


@pytest.mark.django_db(transaction=True)
def test_after_the_owner_leaves_the_next_cycle_opens_and_its_requests_go_out(mail_sink, agency):
    from lastweek.directives.tasks import send_cycle_requests

    staff = [EmployeeFactory(agency=agency, unit=UnitFactory(agency=agency)) for _ in range(3)]
    DirectiveFactory()
    owner = UserFactory(username="former-owner")
    RoleGrantFactory(user=owner, role=Role.DIRECTIVE_OWNER, scope=Scope.ORGANIZATION)
    owner.role_grants.update(revoked_at=timezone.now())
    get_user_model().objects.filter(pk=owner.pk).update(is_active=False)
    [cycle] = run_schedule(dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)).opened
    assert send_cycle_requests.call_local(cycle.pk)["sent"] == len(staff)
    assert sorted(mail_sink.by_recipient()) == sorted(e.email for e in staff)

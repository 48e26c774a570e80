"""Who is asked: policies inherited down the unit tree, nearest decision wins, exemptions and leave."""

import datetime as dt

import pytest

from lastweek.directives.actions import grant_exemption, open_cycle, set_policy
from lastweek.directives.models import Assignment, Exemption, Mode, Source
from lastweek.directives.participation import ROSTER_LEAVE_REASON, participation
from lastweek.org.models import Employee
from tests.factories import DirectiveFactory, EmployeeFactory, UnitFactory, UserFactory

WEEK = "2026-W48"  # Mon 23 Nov 2026; opens Fri 27 Nov, due Mon 30 Nov 23:59 New York


@pytest.fixture
def tree(agency):
    """agency VA: bureau > division > team, one person in each, and one in a sibling division."""
    bureau = UnitFactory(agency=agency, name="Bureau")
    division = UnitFactory(agency=agency, parent=bureau, name="Division")
    team = UnitFactory(agency=agency, parent=division, name="Team")
    sibling = UnitFactory(agency=agency, parent=bureau, name="Sibling division")
    people = {
        name: EmployeeFactory(unit=unit, agency=agency)
        for name, unit in [("bureau", bureau), ("division", division), ("team", team), ("sibling", sibling)]
    }
    return {"bureau": bureau, "division": division, "team": team, "sibling": sibling, "people": people}


@pytest.fixture
def directive(db):
    return DirectiveFactory()


@pytest.fixture
def hr(db):
    return UserFactory(username="hr-officer")


def modes(cycle) -> dict[int, str]:
    return dict(Assignment.objects.filter(cycle=cycle).values_list("employee_id", "mode"))


def test_without_any_policy_everyone_gets_the_directive_default(directive, tree):
    cycle = open_cycle(directive, WEEK)
    assert set(modes(cycle).values()) == {Mode.REQUIRED}
    assert set(Assignment.objects.values_list("source", flat=True)) == {Source.DIRECTIVE}


def test_an_agency_policy_is_inherited_by_every_unit_below(directive, tree, agency, hr):
    set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Agency review under way", actor=hr)
    cycle = open_cycle(directive, WEEK)
    assert set(modes(cycle).values()) == {Mode.PAUSED}


def test_the_nearest_unit_decision_wins_over_the_agency_and_the_parents(directive, tree, agency, hr):
    set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Paused agency-wide", actor=hr)
    set_policy(directive, unit=tree["division"], mode=Mode.VOLUNTARY, reason="Pilot division", actor=hr)
    set_policy(directive, unit=tree["team"], mode=Mode.REQUIRED, reason="Team opted in", actor=hr)
    cycle = open_cycle(directive, WEEK)
    people = tree["people"]
    got = modes(cycle)
    assert got[people["bureau"].pk] == Mode.PAUSED
    assert got[people["sibling"].pk] == Mode.PAUSED
    assert got[people["division"].pk] == Mode.VOLUNTARY
    assert got[people["team"].pk] == Mode.REQUIRED
    team = Assignment.objects.get(cycle=cycle, employee=people["team"])
    assert (team.source, team.policy.reason) == (Source.UNIT, "Team opted in")


def test_a_newer_version_for_the_same_target_replaces_the_older(directive, tree, agency, hr):
    first = set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Pause", actor=hr)
    second = set_policy(directive, agency=agency, mode=Mode.VOLUNTARY, reason="Resume, voluntary", actor=hr)
    assert second.supersedes == first
    cycle = open_cycle(directive, WEEK)
    assert set(modes(cycle).values()) == {Mode.VOLUNTARY}


def test_a_policy_effective_later_does_not_apply_yet(directive, tree, agency, hr):
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="From 2030", actor=hr, effective_from=later)
    cycle = open_cycle(directive, WEEK)
    assert set(modes(cycle).values()) == {Mode.REQUIRED}


def test_an_individual_exemption_makes_one_person_exempt(directive, tree, hr):
    person = tree["people"]["team"]
    grant_exemption(
        person, category=Exemption.Category.CLASSIFIED, starts_on=dt.date(2026, 1, 1), reason="SCIF", actor=hr
    )
    cycle = open_cycle(directive, WEEK)
    mine = Assignment.objects.get(cycle=cycle, employee=person)
    assert (mine.mode, mine.source, mine.reason) == (Mode.EXEMPT, Source.EXEMPTION, "SCIF")
    assert modes(cycle)[tree["people"]["division"].pk] == Mode.REQUIRED


def test_an_exemption_outside_the_cycle_window_does_not_apply(directive, tree, hr):
    person = tree["people"]["team"]
    grant_exemption(
        person,
        category=Exemption.Category.DETAIL,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 3, 1),
        reason="Detail ended in March",
        actor=hr,
    )
    cycle = open_cycle(directive, WEEK)
    assert modes(cycle)[person.pk] == Mode.REQUIRED


def test_a_paused_agency_stays_paused_for_exempted_people(directive, tree, agency, hr):
    person = tree["people"]["team"]
    grant_exemption(person, category="new_hire", starts_on=dt.date(2026, 11, 1), reason="Started", actor=hr)
    set_policy(directive, agency=agency, mode=Mode.PAUSED, reason="Paused", actor=hr)
    cycle = open_cycle(directive, WEEK)
    assert modes(cycle)[person.pk] == Mode.PAUSED


def test_leave_moves_the_deadline_to_48_hours_after_return(directive, tree, hr):
    person = tree["people"]["team"]
    person.time_zone = "America/Chicago"
    person.save()
    grant_exemption(
        person,
        category=Exemption.Category.LEAVE,
        starts_on=dt.date(2026, 11, 23),
        ends_on=dt.date(2026, 12, 4),
        reason="Annual leave",
        actor=hr,
    )
    cycle = open_cycle(directive, WEEK)
    mine = Assignment.objects.get(cycle=cycle, employee=person)
    assert mine.mode == Mode.REQUIRED and mine.on_leave
    # Back Saturday 5 Dec at midnight in Chicago, due 48 hours later.
    assert mine.due_at == dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def test_roster_leave_without_a_return_date_has_no_deadline_yet(directive, tree):
    person = tree["people"]["team"]
    Employee.objects.filter(pk=person.pk).update(status=Employee.Status.ON_LEAVE)
    cycle = open_cycle(directive, WEEK)
    mine = Assignment.objects.get(cycle=cycle, employee=person)
    assert (mine.mode, mine.on_leave, mine.due_at, mine.reason) == (
        Mode.REQUIRED,
        True,
        None,
        ROSTER_LEAVE_REASON,
    )


def test_separated_people_are_not_assigned(directive, tree):
    person = tree["people"]["team"]
    Employee.objects.filter(pk=person.pk).update(status=Employee.Status.SEPARATED)
    cycle = open_cycle(directive, WEEK)
    assert person.pk not in modes(cycle)
    assert cycle.assignment_count == 3


def test_the_audience_limits_who_is_assigned(tree, other_agency):
    outsider = EmployeeFactory(unit=UnitFactory(agency=other_agency))
    directive = DirectiveFactory(whole_organization=False)
    directive.audience_units.add(tree["division"])
    cycle = open_cycle(directive, WEEK)
    people = tree["people"]
    assert set(modes(cycle)) == {people["division"].pk, people["team"].pk}
    assert outsider.pk not in modes(cycle)


def test_the_bulk_freeze_agrees_with_participation_for_every_person(directive, tree, agency, hr):
    set_policy(directive, agency=agency, mode=Mode.VOLUNTARY, reason="Voluntary here", actor=hr)
    set_policy(directive, unit=tree["team"], mode=Mode.EXEMPT, reason="Field team", actor=hr)
    grant_exemption(
        tree["people"]["sibling"], category="other", starts_on=dt.date(2026, 1, 1), reason="x", actor=hr
    )
    Employee.objects.filter(pk=tree["people"]["bureau"].pk).update(status=Employee.Status.ON_LEAVE)
    cycle = open_cycle(directive, WEEK)
    for assignment in Assignment.objects.filter(cycle=cycle).select_related("employee__unit"):
        decision = participation(assignment.employee, cycle)
        assert (assignment.mode, assignment.source, assignment.policy_id, assignment.on_leave) == (
            decision.mode,
            decision.source,
            decision.policy_id,
            decision.on_leave,
        )

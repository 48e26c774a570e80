"""The exclusions report: per agency, how many were asked and how many were left out, by reason; counts
only, for the directive's owners and auditors."""

import datetime as dt

import pytest

from lastweek.access.models import Role, Scope
from lastweek.directives.actions import grant_exemption, open_cycle, set_policy
from lastweek.directives.models import Exemption, Mode
from lastweek.directives.views import REASONS_SHOWN
from lastweek.org.models import Employee
from tests.factories import DirectiveFactory, EmployeeFactory, RoleGrantFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

WEEK = "2026-W48"
EARLIER_WEEK = "2026-W47"
START = dt.date(2026, 1, 1)


@pytest.fixture
def hr(db):
    return UserFactory(username="hr-officer")


@pytest.fixture
def directive(db):
    return DirectiveFactory(title="Weekly accomplishments")


@pytest.fixture
def world(directive, agency, other_agency, hr):
    """VA: a field unit exempt by policy, a classified worker, a new hire, one on leave, two asked.
    DHS: a unit paused by policy and one person asked."""
    va_office = UnitFactory(agency=agency, name="Central Office")
    va_field = UnitFactory(agency=agency, name="Field Station")
    dhs_hq = UnitFactory(agency=other_agency, name="Headquarters")
    dhs_lab = UnitFactory(agency=other_agency, name="Laboratory")
    va = [EmployeeFactory(unit=va_office, last_name=f"Vee{n}") for n in range(5)]
    field = [EmployeeFactory(unit=va_field, last_name=f"Field{n}") for n in range(2)]
    EmployeeFactory(unit=dhs_hq, last_name="Quartermain")
    EmployeeFactory.create_batch(3, unit=dhs_lab)
    set_policy(directive, unit=va_field, mode=Mode.EXEMPT, reason="No email at the station", actor=hr)
    set_policy(directive, unit=dhs_lab, mode=Mode.PAUSED, reason="Lab reorganization", actor=hr)
    grant_exemption(va[0], category=Exemption.Category.CLASSIFIED, starts_on=START, reason="SCIF", actor=hr)
    grant_exemption(
        va[1], category=Exemption.Category.NEW_HIRE, starts_on=START, reason="Onboarding", actor=hr
    )
    grant_exemption(
        va[2], category=Exemption.Category.LEAVE, starts_on=START, ends_on=dt.date(2026, 12, 31),
        reason="Extended leave", actor=hr,
    )  # fmt: skip
    return {"va": va, "field": field, "va_office": va_office}


@pytest.fixture
def cycle(directive, world):
    return open_cycle(directive, WEEK)


@pytest.fixture
def owner(db):
    """Holds the directive-owner role over the whole organization, which owns the directive."""
    user = UserFactory(username="opm-owner")
    RoleGrantFactory(user=user, role=Role.DIRECTIVE_OWNER, scope=Scope.ORGANIZATION)
    return user


def report(client, user, directive, **params):
    client.force_login(user)
    return client.get(f"/directives/{directive.pk}/exclusions/", params)


def rows_by_code(response) -> dict:
    return {row.code: row for row in response.context["rows"]}


def test_counts_per_agency_for_the_latest_cycle(client, owner, directive, cycle):
    rows = rows_by_code(report(client, owner, directive))
    va, dhs = rows["VA"], rows["DHS"]
    assert (va.total, va.asked, va.paused, va.exempt_by_policy, va.on_leave) == (7, 3, 0, 2, 1)
    assert va.by_category == {"leave": 1, "classified": 1, "detail": 0, "new_hire": 1, "other": 0}
    assert (dhs.total, dhs.asked, dhs.paused, dhs.exempt_by_policy, dhs.on_leave) == (4, 1, 3, 0, 0)


def test_reasons_are_listed_with_their_counts(client, owner, directive, cycle):
    rows = rows_by_code(report(client, owner, directive))
    assert rows["VA"].reasons == {
        "exempt": [("No email at the station", 2)],
        "exemption:classified": [("SCIF", 1)],
        "exemption:leave": [("Extended leave", 1)],
        "exemption:new_hire": [("Onboarding", 1)],
    }
    assert rows["DHS"].reasons == {"paused": [("Lab reorganization", 3)]}


def test_the_page_shows_counts_and_reasons_but_never_names(client, owner, directive, cycle, world):
    page = report(client, owner, directive).content.decode()
    assert "Lab reorganization" in page and "No email at the station" in page
    for person in Employee.objects.all():
        assert person.last_name not in page and person.email not in page


def test_many_distinct_reasons_are_cut_to_the_most_frequent(client, owner, directive, world, hr):
    unit = world["va_office"]
    for n in range(REASONS_SHOWN + 2):
        person = EmployeeFactory(unit=unit)
        grant_exemption(person, category="other", starts_on=START, reason=f"Reason {n:02}", actor=hr)
    extra = EmployeeFactory(unit=unit)
    grant_exemption(extra, category="other", starts_on=START, reason="Reason 05", actor=hr)
    open_cycle(directive, WEEK)
    va = rows_by_code(report(client, owner, directive))["VA"]
    shown = va.reasons["exemption:other"]
    assert len(shown) == REASONS_SHOWN and shown[0] == ("Reason 05", 2)
    assert va.more_reasons["exemption:other"] == 2


def test_an_earlier_cycle_can_be_chosen(client, owner, directive, world):
    earlier = open_cycle(directive, EARLIER_WEEK)
    Employee.objects.filter(pk=world["va"][3].pk).update(status=Employee.Status.ON_LEAVE)
    latest = open_cycle(directive, WEEK)
    assert report(client, owner, directive).context["cycle"] == latest
    assert rows_by_code(report(client, owner, directive))["VA"].on_leave == 2
    chosen = report(client, owner, directive, cycle=earlier.pk)
    assert chosen.context["cycle"] == earlier and rows_by_code(chosen)["VA"].on_leave == 1


def test_a_cycle_of_another_directive_is_not_found(client, owner, directive, cycle, world):
    other = open_cycle(DirectiveFactory(), WEEK)
    assert report(client, owner, directive, cycle=other.pk).status_code == 404


def test_a_directive_without_cycles_says_so(client, owner, directive):
    assert b"has not had a cycle yet" in report(client, owner, directive).content


def test_an_organization_auditor_sees_every_agency(client, directive, cycle):
    auditor = UserFactory(username="ig-auditor")
    RoleGrantFactory(user=auditor, role=Role.AUDITOR, scope=Scope.ORGANIZATION)
    assert set(rows_by_code(report(client, auditor, directive))) == {"VA", "DHS"}


def test_an_agency_auditor_sees_only_their_agency(client, directive, cycle, other_agency):
    auditor = UserFactory(username="dhs-auditor")
    RoleGrantFactory(user=auditor, role=Role.AUDITOR, scope=Scope.AGENCY, agency=other_agency)
    assert set(rows_by_code(report(client, auditor, directive))) == {"DHS"}


def test_the_owner_office_of_an_agency_directive_sees_it(client, agency, other_agency, world):
    directive = DirectiveFactory(owner_agency=agency)
    open_cycle(directive, WEEK)
    va_owner = UserFactory(username="va-owner")
    RoleGrantFactory(user=va_owner, role=Role.DIRECTIVE_OWNER, scope=Scope.AGENCY, agency=agency)
    assert set(rows_by_code(report(client, va_owner, directive))) == {"VA", "DHS"}


def test_an_organization_wide_owner_owns_agency_directives_too(client, owner, agency, world):
    directive = DirectiveFactory(owner_agency=agency)
    open_cycle(directive, WEEK)
    assert report(client, owner, directive).status_code == 200


@pytest.mark.parametrize("persona", ["employee", "agency admin", "other office's owner", "outsider"])
def test_others_are_refused(client, persona, directive, cycle, agency, other_agency, world):
    user = UserFactory(username=persona.replace(" ", "-").replace("'", ""))
    if persona == "employee":
        Employee.objects.filter(pk=world["va"][4].pk).update(user=user)
    elif persona == "agency admin":
        RoleGrantFactory(user=user, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=agency)
    elif persona == "other office's owner":
        RoleGrantFactory(user=user, role=Role.DIRECTIVE_OWNER, scope=Scope.AGENCY, agency=other_agency)
    assert report(client, user, directive).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, directive):
    response = client.get(f"/directives/{directive.pk}/exclusions/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_report_costs_a_fixed_number_of_queries(
    client, owner, directive, world, hr, django_assert_num_queries
):
    for n in range(6):
        agency_unit = UnitFactory(name=f"Unit {n}")
        people = EmployeeFactory.create_batch(3, unit=agency_unit)
        set_policy(directive, unit=agency_unit, mode=Mode.PAUSED, reason=f"Paused {n}", actor=hr)
        for person in people[:2]:
            grant_exemption(person, category="detail", starts_on=START, reason=f"Detail {n}", actor=hr)
    open_cycle(directive, WEEK)
    client.force_login(owner)
    # Session, user, directive, the owner's grants (ownership is decided over their agency ids), the cycles,
    # the counts and the two ranked reason queries: the same for 2 agencies or 200.
    with django_assert_num_queries(8):
        response = client.get(f"/directives/{directive.pk}/exclusions/")
    assert len(response.context["rows"]) == 8

"""Whose report text a user may read: the people scope, and the content setting for directive owners."""

import pytest

from lastweek.access.models import Role, Scope
from lastweek.directives.actions import open_cycle, set_content_setting
from lastweek.directives.models import Assignment
from lastweek.reports import submit
from lastweek.reports.reading import visible_reports
from tests.factories import (
    AgencyFactory,
    DirectiveFactory,
    EmployeeFactory,
    RoleGrantFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    va, dhs = AgencyFactory(code="VA"), AgencyFactory(code="DHS")
    boss = EmployeeFactory(unit=UnitFactory(agency=va), user=UserFactory(username="boss"))
    alice = EmployeeFactory(unit=boss.unit, manager=boss, user=UserFactory(username="alice"))
    dan = EmployeeFactory(unit=UnitFactory(agency=dhs), user=UserFactory(username="dan"))
    directive = DirectiveFactory()
    cycle = open_cycle(directive, "2026-W48")
    reports = {}
    for person in (boss, alice, dan):
        assignment = Assignment.objects.get(cycle=cycle, employee=person)
        reports[person.user.username] = submit(assignment, ["Work"], channel="web").report_id
    owner = UserFactory(username="owner")
    RoleGrantFactory(user=owner, role=Role.DIRECTIVE_OWNER, scope=Scope.ORGANIZATION)
    return {
        "va": va,
        "dhs": dhs,
        "boss": boss,
        "alice": alice,
        "dan": dan,
        "owner": owner,
        "reports": reports,
    }


def readable(user) -> set[str]:
    ids = set(visible_reports(user).values_list("pk", flat=True))
    return ids


def test_an_employee_reads_only_their_own_report(world):
    assert readable(world["alice"].user) == {world["reports"]["alice"]}


def test_a_manager_reads_their_reporting_line(world):
    assert readable(world["boss"].user) == {world["reports"]["boss"], world["reports"]["alice"]}


def test_an_agency_admin_reads_their_agency_only(world):
    admin = UserFactory(username="va-admin")
    RoleGrantFactory(user=admin, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=world["va"])
    assert readable(admin) == {world["reports"]["boss"], world["reports"]["alice"]}


def test_the_directive_owner_reads_no_text_by_default(world):
    assert readable(world["owner"]) == set()


def test_the_directive_owner_reads_text_of_agencies_that_share_it(world):
    set_content_setting(world["dhs"], shares_text=True, reason="Shared for the pilot", actor=None)
    assert readable(world["owner"]) == {world["reports"]["dan"]}
    set_content_setting(world["dhs"], shares_text=False, reason="Pilot over", actor=None)
    assert readable(world["owner"]) == set()


def test_an_outsider_reads_nothing(world):
    assert readable(UserFactory(username="outsider")) == set()

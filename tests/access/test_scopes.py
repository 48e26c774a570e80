"""Who sees whom: each persona sees exactly their scope, and an outsider sees nothing."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from django.utils import timezone

from lastweek.access.models import Role, RoleGrant, Scope
from lastweek.access.scopes import can_see_employee, employee_filter, visible_employees
from lastweek.org.models import Employee
from tests.factories import AgencyFactory, EmployeeFactory, RoleGrantFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """Two agencies. In VA: a director over two supervisors, each with two staff, in a unit tree."""
    va, dhs = AgencyFactory(code="VA"), AgencyFactory(code="DHS")
    vha = UnitFactory(agency=va, name="VHA")
    visn = UnitFactory(parent=vha, name="VISN 1")
    boston = UnitFactory(parent=visn, name="Boston")
    vba = UnitFactory(agency=va, name="VBA")
    director = EmployeeFactory(unit=vha, user=UserFactory(username="director"))
    alice = EmployeeFactory(unit=visn, manager=director, user=UserFactory(username="alice"))
    bob = EmployeeFactory(unit=vba, manager=director, user=UserFactory(username="bob"))
    alice_staff = [EmployeeFactory(unit=boston, manager=alice) for _ in range(2)]
    bob_staff = [EmployeeFactory(unit=vba, manager=bob) for _ in range(2)]
    charlie = EmployeeFactory(unit=boston, manager=alice_staff[0], user=UserFactory(username="charlie"))
    dhs_people = [EmployeeFactory(unit=UnitFactory(agency=dhs)) for _ in range(3)]
    return locals()


def seen(user) -> set[Employee]:
    return set(visible_employees(user))


def test_an_employee_sees_only_themselves(org):
    charlie = org["charlie"]
    assert seen(charlie.user) == {charlie}


def test_a_manager_sees_exactly_their_reporting_subtree(org):
    alice = org["alice"]
    assert seen(alice.user) == {alice, *org["alice_staff"], org["charlie"]}


def test_a_senior_manager_sees_every_level_below(org):
    director = org["director"]
    va_people = set(Employee.objects.filter(agency=org["va"]))
    assert seen(director.user) == va_people


def test_an_agency_admin_sees_exactly_their_agency(org):
    admin = UserFactory(username="va-admin")
    RoleGrantFactory(user=admin, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=org["va"])
    assert seen(admin) == set(Employee.objects.filter(agency__code="VA"))
    assert not seen(admin) & set(org["dhs_people"])


def test_a_unit_grant_covers_the_unit_and_everything_below(org):
    reviewer = UserFactory(username="reviewer")
    RoleGrantFactory(user=reviewer, role=Role.REVIEWER, scope=Scope.UNIT, unit=org["visn"])
    assert seen(reviewer) == {org["alice"], *org["alice_staff"], org["charlie"]}


def test_an_organization_wide_auditor_sees_everyone(org):
    auditor = UserFactory(username="auditor")
    RoleGrantFactory(user=auditor, role=Role.AUDITOR, scope=Scope.ORGANIZATION)
    assert seen(auditor) == set(Employee.objects.all())


def test_an_outsider_sees_nothing(org):
    assert seen(UserFactory(username="outsider")) == set()
    assert seen(AnonymousUser()) == set()


def test_a_superuser_gets_no_implicit_scope(org):
    assert seen(UserFactory(username="root", is_superuser=True, is_staff=True)) == set()


def test_a_revoked_grant_gives_nothing(org):
    admin = UserFactory(username="former-admin")
    RoleGrantFactory(
        user=admin, role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=org["va"], revoked_at=timezone.now()
    )
    assert seen(admin) == set()


def test_a_deactivated_user_sees_nothing(org):
    alice = org["alice"]
    alice.user.is_active = False
    alice.user.save()
    assert seen(alice.user) == set()


def test_roles_limit_which_grants_count(org):
    user = UserFactory(username="dual")
    RoleGrantFactory(user=user, role=Role.AUDITOR, scope=Scope.AGENCY, agency=org["dhs"])
    RoleGrantFactory(user=user, role=Role.REVIEWER, scope=Scope.UNIT, unit=org["vba"])
    assert set(visible_employees(user, roles=[Role.REVIEWER])) == {org["bob"], *org["bob_staff"]}
    assert set(visible_employees(user, roles=[Role.AUDITOR])) == set(org["dhs_people"])
    manager_only = set(visible_employees(org["alice"].user, roles=[Role.MANAGER]))
    assert manager_only == {*org["alice_staff"], org["charlie"]}


def test_the_filter_works_through_a_relation(org):
    # employees whose manager alice may see: the filter applied via the `manager` relation
    via = Employee.objects.filter(employee_filter(org["alice"].user, via="manager__"))
    assert set(via) == {*org["alice_staff"], org["charlie"]}


def test_can_see_employee_agrees_with_the_queryset(org):
    alice, bob = org["alice"], org["bob"]
    assert can_see_employee(alice.user, org["charlie"])
    assert not can_see_employee(alice.user, bob)
    assert not can_see_employee(alice.user, org["director"])


def test_a_grant_scope_must_match_its_target(org):
    with pytest.raises(IntegrityError):
        RoleGrant.objects.create(user=UserFactory(), role=Role.AUDITOR, scope=Scope.AGENCY)

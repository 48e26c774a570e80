"""Who reads and who changes OKRs: the rules in access.okrs, as every page and API call asks them."""

import pytest

from lastweek.access.models import Role, Scope
from lastweek.access.okrs import can_edit_okrs, can_edit_unit_okrs
from lastweek.goals.models import KeyResult, Objective
from tests.factories import EmployeeFactory, RoleGrantFactory, UserFactory
from tests.goals.conftest import key_result, objective

pytestmark = pytest.mark.django_db


def test_an_employee_reads_every_objective_of_their_agency(processor, vba_objective, vha):
    health = objective(vha, title="Shorter waits")
    agency_wide = vba_objective.supports.get().objective
    assert set(Objective.objects.visible_to(processor)) == {vba_objective, agency_wide, health}


def test_an_outsider_reads_nothing_of_another_agency(outsider, vba_objective):
    assert not Objective.objects.visible_to(outsider).exists()
    assert not KeyResult.objects.visible_to(outsider).exists()


def test_an_organization_wide_grant_reads_every_agency(vba_objective, other_agency):
    auditor = RoleGrantFactory(role=Role.AUDITOR, scope=Scope.ORGANIZATION).user
    elsewhere = objective(agency=other_agency, title="Theirs")
    assert {vba_objective, elsewhere} <= set(Objective.objects.visible_to(auditor))


def test_a_unit_grant_reads_the_units_agency(vba, vba_objective):
    reviewer = RoleGrantFactory(role=Role.REVIEWER, scope=Scope.UNIT, unit=vba).user
    assert vba_objective in Objective.objects.visible_to(reviewer)


def test_anonymous_and_inactive_users_read_nothing(vba_objective, processor):
    from django.contrib.auth.models import AnonymousUser

    assert not Objective.objects.visible_to(AnonymousUser()).exists()
    processor.is_active = False
    assert not Objective.objects.visible_to(processor).exists()


def test_a_manager_edits_their_own_unit_and_the_units_below(director, vba, compensation, boston):
    assert can_edit_unit_okrs(director, vba)
    assert can_edit_unit_okrs(director, compensation)
    assert can_edit_unit_okrs(director, boston)


def test_a_manager_cannot_edit_a_sibling_unit_or_the_agency(director, vha, agency):
    assert not can_edit_unit_okrs(director, vha)
    assert not can_edit_okrs(director, agency)


def test_a_manager_cannot_edit_the_units_above_them(compensation, vba):
    user = UserFactory(username="deputy")
    deputy = EmployeeFactory(unit=compensation, user=user)
    EmployeeFactory(unit=compensation, manager=deputy)
    assert can_edit_unit_okrs(user, compensation)
    assert not can_edit_unit_okrs(user, vba)


def test_an_employee_who_manages_no_one_cannot_edit_even_their_own_unit(processor, boston, vba):
    assert not can_edit_unit_okrs(processor, boston)
    assert not can_edit_unit_okrs(processor, vba)


def test_an_employee_cannot_edit_another_units_okrs(processor, vha):
    assert not can_edit_unit_okrs(processor, vha)


def test_an_agency_admin_edits_every_unit_and_the_agency_itself(va_admin, agency, vha, boston):
    assert can_edit_okrs(va_admin, agency)
    assert can_edit_unit_okrs(va_admin, vha)
    assert can_edit_unit_okrs(va_admin, boston)


def test_an_agency_admin_cannot_edit_another_agency(va_admin, outsider):
    assert not can_edit_unit_okrs(va_admin, outsider.employee.unit)


def test_a_unit_scoped_admin_edits_that_subtree_only(vba, boston, vha, agency):
    user = RoleGrantFactory(role=Role.AGENCY_ADMIN, scope=Scope.UNIT, unit=vba).user
    assert can_edit_unit_okrs(user, boston)
    assert not can_edit_unit_okrs(user, vha)
    assert not can_edit_okrs(user, agency)


def test_other_roles_and_revoked_grants_do_not_edit(vba, agency):
    from django.utils import timezone

    reviewer = RoleGrantFactory(role=Role.REVIEWER, scope=Scope.AGENCY, agency=agency).user
    revoked = RoleGrantFactory(
        role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=agency, revoked_at=timezone.now()
    ).user
    assert not can_edit_unit_okrs(reviewer, vba)
    assert not can_edit_unit_okrs(revoked, vba)


def test_a_manager_of_another_agency_cannot_edit(outsider, vba):
    assert not can_edit_unit_okrs(outsider, vba)


def test_the_key_result_owner_checks_in_without_editing_the_objective(processor, boston, vha):
    owned = objective(vha, krs=[key_result("Owned", owner=processor.employee)])
    assert owned.key_results.get().check_in_allowed(processor)
    assert not objective(vha, title="Other").key_results.get().check_in_allowed(processor)


def test_editors_check_in(director, vba_objective):
    assert vba_objective.key_results.first().check_in_allowed(director)

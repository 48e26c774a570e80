"""Who may read and who may change objectives and key results.

- Reading: everyone linked to an employee of an agency reads that agency's OKRs; a role grant of any
  kind over an agency or one of its units reads that agency's; an organization-wide grant reads all.
- Changing a unit's OKRs: an agency administrator whose grant covers the unit, or a manager (someone with
  direct reports) who sits in that unit or above it. Agency-wide OKRs: agency administrators only.
- Checking in on a key result: whoever may change its objective, and the key result's own owner.
Every view and API call asks these functions; none decides on its own.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from lastweek.access.models import Role, RoleGrant, Scope
from lastweek.access.scopes import linked_employee
from lastweek.goals.models import KeyResult, Objective
from lastweek.org.models import Agency, Unit

AnyUser = AbstractBaseUser | AnonymousUser
EVERY_AGENCY = None


def _active(user: AnyUser) -> bool:
    return user.is_authenticated and user.is_active


def readable_agency_ids(user: AnyUser) -> set[int] | None:
    """The agencies whose OKRs `user` reads; None means every agency."""
    if not _active(user):
        return set()
    ids: set[int] = set()
    for scope, agency_id, unit_agency_id in (
        RoleGrant.objects.in_force().filter(user=user).values_list("scope", "agency_id", "unit__agency_id")
    ):
        if scope == Scope.ORGANIZATION:
            return EVERY_AGENCY
        ids.add(agency_id if scope == Scope.AGENCY else unit_agency_id)
    employee = linked_employee(user)
    if employee is not None:
        ids.add(employee.agency_id)
    return ids


def visible_objectives(user: AnyUser) -> QuerySet[Objective]:
    """The objectives `user` may read."""
    agencies = readable_agency_ids(user)
    if agencies is EVERY_AGENCY:
        return Objective.objects.all()
    return Objective.objects.filter(agency_id__in=sorted(agencies))


def visible_key_results(user: AnyUser) -> QuerySet[KeyResult]:
    """The key results `user` may read (and link their own bullets to)."""
    return KeyResult.objects.filter(objective__in=visible_objectives(user))


def can_read_agency(user: AnyUser, agency: Agency) -> bool:
    agencies = readable_agency_ids(user)
    return agencies is EVERY_AGENCY or agency.pk in agencies


def can_edit_okrs(user: AnyUser, agency: Agency, unit: Unit | None = None) -> bool:
    """Whether `user` may create and change the OKRs of `unit` (of the agency itself when None)."""
    if not _active(user):
        return False
    if _administers(user, agency, unit):
        return True
    if unit is None:
        return False
    employee = linked_employee(user)
    return (
        employee is not None
        and employee.agency_id == unit.agency_id
        and unit.path.startswith(employee.unit.path)
        and employee.direct_reports.exists()
    )


def can_edit_unit_okrs(user: AnyUser, unit: Unit) -> bool:
    """Whether `user` may create and change the OKRs of `unit`."""
    return can_edit_okrs(user, unit.agency, unit)


def can_edit_objective(user: AnyUser, objective: Objective) -> bool:
    return can_edit_okrs(user, objective.agency, objective.unit)


def can_check_in(user: AnyUser, key_result: KeyResult) -> bool:
    """Editors of the objective, and the key result's owner."""
    if not _active(user):
        return False
    owner = key_result.owner
    if owner is not None and owner.user_id == user.pk:
        return True
    return can_edit_objective(user, key_result.objective)


def _administers(user: AnyUser, agency: Agency, unit: Unit | None) -> bool:
    grants = RoleGrant.objects.in_force().filter(user=user, role=Role.AGENCY_ADMIN)
    covering = Q(scope=Scope.ORGANIZATION) | Q(scope=Scope.AGENCY, agency=agency)
    if unit is not None:
        covering |= Q(scope=Scope.UNIT, unit_id__in=unit_and_ancestor_ids(unit))
    return grants.filter(covering).exists()


def unit_and_ancestor_ids(unit: Unit) -> list[int]:
    """The unit's id and its ancestors', read from its materialized path."""
    return [int(part) for part in unit.path.strip("/").split("/")]

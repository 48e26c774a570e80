"""Who may read and who may change objectives and key results.

- Reading: everyone linked to an employee of an agency reads that agency's OKRs; a role grant of any
  kind over an agency or one of its units reads that agency's; an organization-wide grant reads all.
- Changing a unit's OKRs: an agency administrator whose grant covers the unit, or a manager (someone with
  direct reports) who sits in that unit or above it. Agency-wide OKRs: agency administrators only.
- Checking in on a key result: whoever may change its objective, and the key result's own owner.
Every view and API call asks these functions; none decides on its own. They answer with filters over
field paths and yes/no over ids and org rows; `goals` builds its own querysets from them
(`Objective.objects.visible_to(user)`), so this module knows nothing of the goals app.
"""

from __future__ import annotations

from django.db.models import Q

from lastweek.access.models import Role, RoleGrant, Scope
from lastweek.access.scopes import NOTHING, AnyUser, linked_employee
from lastweek.org.models import Agency, Unit

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


def okr_filter(user: AnyUser, *, via: str = "") -> Q:
    """A filter selecting the objectives `user` may read; `via` is the path from the queried model to
    the objective ("" for Objective itself, "objective__" for its key results)."""
    agencies = readable_agency_ids(user)
    if agencies is EVERY_AGENCY:
        return Q()
    return Q(**{f"{via}agency_id__in": sorted(agencies)}) if agencies else NOTHING


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


def can_check_in(user: AnyUser, *, owner_user_id: int | None, agency: Agency, unit: Unit | None) -> bool:
    """Editors of the objective (of `unit`, or agency-wide when None), and the key result's owner (the
    account linked to its owner, `owner_user_id`)."""
    if not _active(user):
        return False
    if owner_user_id is not None and owner_user_id == user.pk:
        return True
    return can_edit_okrs(user, agency, unit)


def _administers(user: AnyUser, agency: Agency, unit: Unit | None) -> bool:
    grants = RoleGrant.objects.in_force().filter(user=user, role=Role.AGENCY_ADMIN)
    covering = Q(scope=Scope.ORGANIZATION) | Q(scope=Scope.AGENCY, agency=agency)
    if unit is not None:
        covering |= Q(scope=Scope.UNIT, unit_id__in=unit_and_ancestor_ids(unit))
    return grants.filter(covering).exists()


def unit_and_ancestor_ids(unit: Unit) -> list[int]:
    """The unit's id and its ancestors', read from its materialized path."""
    return [int(part) for part in unit.path.strip("/").split("/")]

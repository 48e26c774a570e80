"""The one place that answers "which employees may this user see".

Everything that shows people or their reports filters through `employee_filter()`: a user sees
- themselves, when their account is linked to an employee;
- everyone below them in the reporting line, when they manage people (derived from the manager tree,
  no grant needed);
- the scope of each role grant in force: the whole organization, one agency, or one unit and its subtree.
Superusers get nothing implicitly: operating the site is not a licence to read people's work.

This module answers with `Q` filters over field paths and yes/no over ids; each app builds its own
querysets from them (`reports.reading.visible_reports()`, `Objective.objects.visible_to()`), so `access`
imports nothing above `org`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from lastweek.access.models import Role, RoleGrant, Scope
from lastweek.org.models import Agency, Employee, reporting_subtree_sql

AnyUser = AbstractBaseUser | AnonymousUser
NOTHING = Q(pk__in=[])


def employee_filter(user: AnyUser, *, roles: Iterable[str] | None = None, via: str = "") -> Q:
    """A filter selecting the employees `user` may see, for any model that reaches Employee.

    `via` is the lookup path from the queried model to Employee ("" for Employee itself,
    "employee__" for a model with an `employee` foreign key). `roles` limits which roles count
    (None: all of them); the implicit employee and manager roles count when listed or when None.
    """
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    wanted = set(roles) if roles is not None else set(Role.values)
    grants = RoleGrant.objects.in_force().filter(user=user, role__in=wanted).select_related("unit")
    if any(grant.scope == Scope.ORGANIZATION for grant in grants):
        return Q()
    condition = NOTHING
    agency_ids = {grant.agency_id for grant in grants if grant.scope == Scope.AGENCY}
    if agency_ids:
        condition |= Q(**{f"{via}agency_id__in": sorted(agency_ids)})
    for grant in grants:
        if grant.scope == Scope.UNIT:
            condition |= Q(**{f"{via}unit__path__startswith": grant.unit.path})
    employee = linked_employee(user)
    if employee is not None:
        if Role.EMPLOYEE in wanted:
            condition |= Q(**{f"{via}pk": employee.pk})
        if Role.MANAGER in wanted:
            condition |= Q(**{f"{via}id__in": reporting_subtree_sql(employee.pk)})
    return condition


def report_filter(user: AnyUser, *, text_shared_by: Iterable[int]) -> Q:
    """A filter on reports selecting those whose text `user` may read.

    Everyone's scope works as for people (themselves, their reporting line, their grants), except the
    directive owner's: an owner reads the text of the directive's reports only from the agencies in
    `text_shared_by` (those whose content setting shares it; `reports.reading` supplies them). By default
    text stays inside the agency and the owner sees figures only.
    """
    others = [role for role in Role.values if role != Role.DIRECTIVE_OWNER]
    condition = employee_filter(user, roles=others, via="employee__")
    owned = owned_directive_filter(user, via="cycle__directive__")
    if owned is not None:
        condition |= owned & Q(employee__agency_id__in=sorted(text_shared_by))
    return condition


ALL_AGENCIES = None


def granted_agencies(user: AnyUser, role: str) -> set[int] | None:
    """The agencies over which `user` holds `role` through an agency or organization grant: a set of
    ids, possibly empty, or ALL_AGENCIES (None) for an organization-wide grant."""
    if not user.is_authenticated or not user.is_active:
        return set()
    grants = RoleGrant.objects.in_force().filter(user=user, role=role).values_list("scope", "agency_id")
    agency_ids: set[int] = set()
    for scope, agency_id in grants:
        if scope == Scope.ORGANIZATION:
            return ALL_AGENCIES
        if scope == Scope.AGENCY:
            agency_ids.add(agency_id)
    return agency_ids


def administered_agencies(user: AnyUser) -> QuerySet[Agency]:
    """The agencies whose participation policy `user` sets (agency administrator grants)."""
    agency_ids = granted_agencies(user, Role.AGENCY_ADMIN)
    return Agency.objects.all() if agency_ids is ALL_AGENCIES else Agency.objects.filter(pk__in=agency_ids)


def owned_directive_filter(user: AnyUser, *, via: str = "") -> Q | None:
    """A filter selecting the directives whose owner office `user` holds (None when they hold none);
    `via` is the path from the queried model to the directive."""
    agency_ids = granted_agencies(user, Role.DIRECTIVE_OWNER)
    if agency_ids == set():
        return None
    if agency_ids is ALL_AGENCIES:
        return Q()
    return Q(**{f"{via}owner_agency_id__in": sorted(agency_ids)})


def owns_directive(user: AnyUser, owner_agency_id: int) -> bool:
    """Whether `user` holds the directive-owner role over the office (agency) that owns a directive, as
    for report content: an organization-wide grant owns every directive."""
    agency_ids = granted_agencies(user, Role.DIRECTIVE_OWNER)
    return agency_ids is ALL_AGENCIES or owner_agency_id in agency_ids


def exclusion_filter(user: AnyUser, owner_agency_id: int) -> Q:
    """The assignments whose counts `user` may see in a directive's exclusions report: all of them for
    its owners and organization-wide auditors, one agency's for an agency auditor. Raises
    PermissionDenied for anyone else."""
    if owns_directive(user, owner_agency_id):
        return Q()
    agency_ids = granted_agencies(user, Role.AUDITOR)
    if agency_ids is ALL_AGENCIES:
        return Q()
    if not agency_ids:
        raise PermissionDenied("The exclusions report is for the directive's owners and auditors.")
    return Q(agency_id__in=sorted(agency_ids))


def visible_employees(user: AnyUser, *, roles: Iterable[str] | None = None) -> QuerySet[Employee]:
    """The employees `user` may see, as a queryset to filter further."""
    return Employee.objects.filter(employee_filter(user, roles=roles))


def can_see_employee(user: AnyUser, employee: Employee, *, roles: Iterable[str] | None = None) -> bool:
    """Whether `employee` is within `user`'s scope."""
    return visible_employees(user, roles=roles).filter(pk=employee.pk).exists()


def linked_employee(user: AnyUser) -> Employee | None:
    """The roster entry linked to this account, if any (read once per request: the relation is cached
    on the user)."""
    if not user.is_authenticated:
        return None
    try:
        return user.employee
    except Employee.DoesNotExist:
        return None

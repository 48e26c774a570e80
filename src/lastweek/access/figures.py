"""Whose compliance figures a user may see: the grants, and a manager's own unit.

- An organization-wide grant of any role below: every agency and unit.
- An agency grant: that agency and all its units.
- A unit grant: that unit and everything below it.
- A manager (an account linked to an employee with direct reports): the unit they work in and
  everything below it, and their own reporting line, person by person.
Anyone else sees no one's figures (the dashboard answers 403). Figures are counts; names with a status
are shown only for people `access.scopes.employee_filter` lets the user see, and report text only
through `reports.reading.visible_reports`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lastweek.access.models import Role, RoleGrant, Scope
from lastweek.access.scopes import AnyUser, linked_employee
from lastweek.org.models import Agency, Employee, Unit

FIGURE_ROLES = (Role.AUDITOR, Role.AGENCY_ADMIN, Role.DIRECTIVE_OWNER, Role.MANAGER, Role.REVIEWER)


@dataclass
class FigureScope:
    everything: bool = False
    agency_ids: set[int] = field(default_factory=set)
    unit_paths: dict[int, str] = field(default_factory=dict)
    manager: Employee | None = None

    @property
    def empty(self) -> bool:
        return not (self.everything or self.agency_ids or self.unit_paths or self.manager)

    def sees_agency(self, agency: Agency) -> bool:
        """The whole agency's figures."""
        return self.everything or agency.pk in self.agency_ids

    def sees_unit(self, unit: Unit) -> bool:
        """The figures of `unit` and everything below it."""
        if self.everything or unit.agency_id in self.agency_ids:
            return True
        return any(unit.path.startswith(path) for path in self.unit_paths.values())

    def top_units(self) -> list[int]:
        """The highest units granted by unit (units an agency grant covers are not listed)."""
        paths = sorted(self.unit_paths.items(), key=lambda item: len(item[1]))
        tops: list[tuple[int, str]] = []
        for unit_id, path in paths:
            if not any(path.startswith(top) for _, top in tops):
                tops.append((unit_id, path))
        return [unit_id for unit_id, _ in tops]


def figure_scope(user: AnyUser) -> FigureScope:
    """What `user` may see figures of (see the module docstring)."""
    scope = FigureScope()
    if not user.is_authenticated or not user.is_active:
        return scope
    grants = RoleGrant.objects.in_force().filter(user=user, role__in=FIGURE_ROLES).select_related("unit")
    for grant in grants:
        if grant.scope == Scope.ORGANIZATION:
            scope.everything = True
        elif grant.scope == Scope.AGENCY:
            scope.agency_ids.add(grant.agency_id)
        elif grant.scope == Scope.UNIT:
            scope.unit_paths[grant.unit_id] = grant.unit.path
    employee = linked_employee(user)
    if employee is not None and Employee.objects.filter(manager=employee).exists():
        scope.manager = employee
        unit = Unit.objects.get(pk=employee.unit_id)
        scope.unit_paths.setdefault(unit.pk, unit.path)
    return scope

"""The compliance API (mounted at /api/compliance/): counts by status and the rates for the caller's
scope, per cycle, for an agency or a unit (with everything below it) and its child units.

Scoped like the dashboard (compliance.scope): figures outside the caller's scope answer 403 (`no_figures`
for a caller with no scope at all, `outside_scope` for one agency or unit); an unknown cycle, agency or
unit answers 404.
"""

from __future__ import annotations

from django.db.models import Model
from django.http import HttpRequest
from ninja import Router, Schema

from lastweek.access.figures import FigureScope, figure_scope
from lastweek.api_contract import ApiError, Id, refusals, text
from lastweek.compliance.rollup import agency_rollups, unit_rollups
from lastweek.compliance.status import Counts
from lastweek.directives.models import Cycle
from lastweek.org.models import Agency, Unit

router = Router(tags=["compliance"])
# An agency's code: a path segment (no "/") of the 16-character column.
AgencyCode = text(16, pattern="^[^/\\x00]{1,16}$")


class CountsOut(Schema):
    total: int
    due: int
    answered_due: int
    compliance_rate: float | None
    on_time_rate: float | None
    by_status: dict[str, int]


class TargetOut(Schema):
    kind: str
    id: int
    code: str | None = None
    name: str
    counts: CountsOut


class RollupOut(Schema):
    cycle_id: int
    week: str
    target: TargetOut
    children: list[TargetOut]


def _scope(request: HttpRequest) -> FigureScope:
    scope = figure_scope(request.user)
    if scope.empty:
        raise ApiError(
            403,
            "no_figures",
            "You have no compliance figures to see: ask for a role over your unit or agency.",
        )
    return scope


def _found(model: type[Model], field: str, **lookup: object) -> Model:
    found = model.objects.filter(**lookup).first()
    if found is None:
        raise ApiError(404, "not_found", f"No {model._meta.verbose_name} has that {field}.", field)
    return found


def _target(kind: str, obj, counts: Counts) -> dict:
    return {
        "kind": kind,
        "id": obj.pk,
        "code": getattr(obj, "code", None),
        "name": obj.name,
        "counts": counts.as_dict(),
    }


@router.get(
    "/cycles/{cycle_id}/agencies/{code}",
    response={200: RollupOut, **refusals(403, 404)},
    summary="An agency and its top-level units",
)
def agency_rollup(request: HttpRequest, cycle_id: Id, code: AgencyCode) -> dict:
    scope = _scope(request)
    cycle = _found(Cycle, "cycle_id", pk=cycle_id)
    agency = _found(Agency, "code", code=code.upper())
    if not scope.sees_agency(agency):
        raise ApiError(403, "outside_scope", f"Agency {agency.code} is outside your scope.", "code")
    top = list(Unit.objects.filter(agency=agency, parent=None).order_by("name"))
    totals = agency_rollups([cycle], [agency.pk])
    units = unit_rollups([cycle], [u.pk for u in top])
    return {
        "cycle_id": cycle.pk,
        "week": cycle.week,
        "target": _target("agency", agency, totals.get((cycle.pk, agency.pk), Counts())),
        "children": [_target("unit", u, units.get((cycle.pk, u.pk), Counts())) for u in top],
    }


@router.get(
    "/cycles/{cycle_id}/units/{unit_id}",
    response={200: RollupOut, **refusals(403, 404)},
    summary="A unit (with all below it) and its child units",
)
def unit_rollup(request: HttpRequest, cycle_id: Id, unit_id: Id) -> dict:
    scope = _scope(request)
    cycle = _found(Cycle, "cycle_id", pk=cycle_id)
    unit = _found(Unit, "unit_id", pk=unit_id)
    if not scope.sees_unit(unit):
        raise ApiError(403, "outside_scope", f"Unit {unit.pk} is outside your scope.", "unit_id")
    children = list(Unit.objects.filter(parent=unit).order_by("name"))
    totals = unit_rollups([cycle], [unit.pk, *(c.pk for c in children)])
    return {
        "cycle_id": cycle.pk,
        "week": cycle.week,
        "target": _target("unit", unit, totals.get((cycle.pk, unit.pk), Counts())),
        "children": [_target("unit", c, totals.get((cycle.pk, c.pk), Counts())) for c in children],
    }


@router.get(
    "/cycles/{cycle_id}",
    response={200: list[TargetOut], **refusals(403, 404)},
    summary="Every agency or unit in your scope",
)
def scope_rollup(request: HttpRequest, cycle_id: Id) -> list[dict]:
    """The agencies you may see (all of them for an organization-wide role), then the units you were
    granted, or manage, outside those agencies."""
    scope = _scope(request)
    cycle = _found(Cycle, "cycle_id", pk=cycle_id)
    agencies = Agency.objects.order_by("code")
    if not scope.everything:
        agencies = agencies.filter(pk__in=scope.agency_ids)
    agencies = list(agencies)
    totals = agency_rollups([cycle], None if scope.everything else [a.pk for a in agencies])
    found = [_target("agency", a, totals.get((cycle.pk, a.pk), Counts())) for a in agencies]
    if not scope.everything:
        units = [
            u
            for u in Unit.objects.filter(pk__in=scope.top_units()).order_by("name")
            if u.agency_id not in scope.agency_ids
        ]
        unit_totals = unit_rollups([cycle], [u.pk for u in units])
        found += [_target("unit", u, unit_totals.get((cycle.pk, u.pk), Counts())) for u in units]
    return found

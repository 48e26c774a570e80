"""The compliance dashboard: rates by agency and unit with drill-down, the week-over-week trend, counts by
status, and the policy decisions beside the figures they explain; downloads of the same scope.

Who sees what is decided by compliance.scope (figures) and access (names and report text); a page
outside the user's scope answers 403.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from lastweek.access.scopes import employee_filter, linked_employee
from lastweek.compliance import exports
from lastweek.compliance.rollup import agency_rollups, unit_rollups
from lastweek.compliance.scope import FigureScope, figure_scope
from lastweek.compliance.status import Counts, Status, count_rows, status_table
from lastweek.compliance.summaries import ensure_current
from lastweek.dashboard.figures import (
    Filters,
    Row,
    filters,
    policy_index,
    series,
    status_counts,
    trend_cycles,
)
from lastweek.directives.models import Assignment, Cycle
from lastweek.org.models import Agency, Unit, reporting_subtree_sql

PEOPLE_SHOWN = 200


def _scope(request: HttpRequest) -> FigureScope:
    scope = figure_scope(request.user)
    if scope.empty:
        raise PermissionDenied(
            "You have no compliance figures to see: ask for a role over your unit or agency."
        )
    return scope


def _query(request: HttpRequest) -> str:
    return f"?{request.GET.urlencode()}" if request.GET else ""


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The organization's agencies, or straight to the one agency or unit the user may see."""
    scope = _scope(request)
    if not scope.everything and len(scope.agency_ids) == 1 and not scope.unit_paths:
        agency = Agency.objects.get(pk=next(iter(scope.agency_ids)))
        return redirect(reverse("dashboard:agency", args=[agency.code]) + _query(request))
    if not scope.everything and not scope.agency_ids:
        return redirect(reverse("dashboard:unit", args=[scope.top_units()[0]]) + _query(request))
    f = filters(request)
    agencies = Agency.objects.order_by("code")
    if not scope.everything:
        agencies = agencies.filter(pk__in=scope.agency_ids)
    agencies = list(agencies)
    ids = None if scope.everything else [a.pk for a in agencies]
    cycles = trend_cycles(f)
    totals = agency_rollups(cycles, ids, now=f.now) if cycles else {}
    index_ = policy_index(f)
    rows = (
        [
            Row(
                a,
                totals.get((f.cycle.pk, a.pk), Counts()),
                index_.by_agency.get(a.pk),
                reverse("dashboard:agency", args=[a.code]),
            )
            for a in agencies
        ]
        if f.cycle
        else []
    )
    overall = _sum(row.counts for row in rows)
    context = _page(f, "All agencies", overall, rows, series(cycles, totals, None), scope)
    shown = {a.pk: a for a in agencies}
    policies = [p for p in index_.by_agency.values() if p.agency_id in shown]
    for policy in policies:
        policy.agency = shown[policy.agency_id]  # loaded already: no query per decision
    context["policies"] = sorted(policies, key=lambda p: p.agency.code)
    return render(request, "dashboard/index.html", context)


@login_required
def agency(request: HttpRequest, code: str) -> HttpResponse:
    scope = _scope(request)
    agency = get_object_or_404(Agency, code=code)
    if not scope.sees_agency(agency):
        raise PermissionDenied("This agency's figures are outside your scope.")
    f = filters(request)
    cycles = trend_cycles(f)
    top = list(Unit.objects.filter(agency=agency, parent=None).order_by("name"))
    ensure_current(cycles, now=f.now)
    totals = agency_rollups(cycles, [agency.pk], now=f.now, ensure=False) if cycles else {}
    units = unit_rollups([f.cycle], [u.pk for u in top], now=f.now, ensure=False) if f.cycle else {}
    index_ = policy_index(f)
    rows = [_unit_row(f, index_, unit, units) for unit in top] if f.cycle else []
    overall = totals.get((f.cycle.pk, agency.pk), Counts()) if f.cycle else Counts()
    context = _page(f, agency.name, overall, rows, series(cycles, totals, agency.pk), scope)
    context |= {
        "agency": agency,
        "policies": _policies(index_, agency.pk),
        "download": f"agency:{agency.code}",
    }
    return render(request, "dashboard/agency.html", context)


@login_required
def unit(request: HttpRequest, unit_id: int) -> HttpResponse:
    scope = _scope(request)
    unit = get_object_or_404(Unit.objects.select_related("agency"), pk=unit_id)
    if not scope.sees_unit(unit):
        raise PermissionDenied("This unit's figures are outside your scope.")
    f = filters(request)
    cycles = trend_cycles(f)
    children = list(Unit.objects.filter(parent=unit).order_by("name"))
    # One read for the unit over the weeks and its children (the children's earlier weeks are unused).
    totals = unit_rollups(cycles, [unit.pk, *(c.pk for c in children)], now=f.now) if cycles else {}
    index_ = policy_index(f)
    rows = [_unit_row(f, index_, child, totals) for child in children] if f.cycle else []
    overall = totals.get((f.cycle.pk, unit.pk), Counts()) if f.cycle else Counts()
    context = _page(f, unit.name, overall, rows, series(cycles, totals, unit.pk), scope)
    ancestors = list(unit.ancestors())
    context |= {
        "agency": unit.agency,
        "unit": unit,
        "ancestors": [(a, scope.sees_unit(a)) for a in ancestors],
        "agency_visible": scope.sees_agency(unit.agency),
        "decision": index_.nearest(unit.agency_id, unit.path),
        "people": _people(request, f, Q(unit=unit)),
        "download": f"unit:{unit.pk}",
    }
    return render(request, "dashboard/unit.html", context)


@login_required
def team(request: HttpRequest) -> HttpResponse:
    """A manager's direct reports, person by person, and their whole reporting line in figures."""
    employee = linked_employee(request.user)
    if employee is None or not employee.direct_reports.exists():
        raise PermissionDenied("This page is for managers: your account manages no one on the roster.")
    f = filters(request)
    line = Counts()
    if f.cycle:
        line = count_rows(
            status_table(f.cycle, now=f.now, where=Q(employee_id__in=reporting_subtree_sql(employee.pk))),
            f.now,
        )
    context = {
        "f": f,
        "title": "Your team",
        "overall": line,
        "status_counts": status_counts(line),
        "people": _people(request, f, Q(manager_id=employee.pk)),
        "download": "mine",
    }
    return render(request, "dashboard/team.html", context)


def _page(f: Filters, title: str, overall: Counts, rows: list[Row], chart: dict, scope: FigureScope) -> dict:
    return {
        "f": f,
        "title": title,
        "overall": overall,
        "status_counts": status_counts(overall),
        "rows": rows,
        "chart": chart,
        "statuses": list(Status),
        "is_manager": scope.manager is not None,
    }


def _sum(counts) -> Counts:
    total = Counts()
    for item in counts:
        total += item
    return total


def _unit_row(f: Filters, index_, unit: Unit, totals: dict) -> Row:
    counts = totals.get((f.cycle.pk, unit.pk), Counts())
    return Row(unit, counts, index_.by_unit.get(unit.pk), reverse("dashboard:unit", args=[unit.pk]))


def _policies(index_, agency_id: int) -> list:
    found = [p for p in index_.by_unit.values() if p.unit.agency_id == agency_id]
    if agency_id in index_.by_agency:
        found.insert(0, index_.by_agency[agency_id])
    return found


def _people(request: HttpRequest, f: Filters, where: Q) -> list:
    """Status rows of the people matching `where` whom the user may see (names, no report text)."""
    if f.cycle is None:
        return []
    visible = where & employee_filter(request.user, via="employee__")
    rows = list(status_table(f.cycle, now=f.now, where=visible, stream=False))
    if f.status:
        rows = [row for row in rows if row.status == f.status]
    rows.sort(key=lambda row: (row.last_name, row.first_name))
    return rows[:PEOPLE_SHOWN]


@login_required
def download(request: HttpRequest) -> HttpResponse:
    """The statuses and report text of a scope the user may see, for the chosen week, as CSV or Parquet."""
    scope = _scope(request)
    f = filters(request)
    if f.cycle is None:
        raise PermissionDenied("There is no week to export yet.")
    asked = request.GET.get("scope", "")
    if asked == "mine":
        employee = linked_employee(request.user)
        if employee is None:
            raise PermissionDenied("Your account is not linked to an employee.")
        export_scope = exports.ExportScope("line", employee.employee_number)
    else:
        try:
            export_scope = exports.ExportScope.parse(asked)
        except exports.ExportError as exc:
            raise PermissionDenied(str(exc)) from None
        _check_export_scope(scope, export_scope)
    exporter = exports.Exporter([f.cycle], export_scope, request.user)
    name = f"lastweek-{f.cycle.week}-{asked.replace(':', '-')}"
    return _file(exporter, request.GET.get("format", "csv"), name)


def _check_export_scope(scope: FigureScope, export_scope: exports.ExportScope) -> None:
    if export_scope.kind == "agency":
        agency = Agency.objects.filter(code=export_scope.value).first()
        if agency is None or not scope.sees_agency(agency):
            raise PermissionDenied("That agency is outside your scope.")
    elif export_scope.kind == "unit":
        unit = Unit.objects.filter(
            pk=int(export_scope.value) if export_scope.value.isdigit() else None
        ).first()
        if unit is None or not scope.sees_unit(unit):
            raise PermissionDenied("That unit is outside your scope.")
    elif not (export_scope.kind == "organization" and scope.everything):
        raise PermissionDenied("Download an agency or a unit, from its page.")


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer in a streaming response."""

    def write(self, value: str) -> str:
        return value


def _file(exporter: exports.Exporter, fmt: str, name: str) -> HttpResponse:
    if fmt == "parquet":
        # Parquet's footer comes last, so the file is written to disk first (still in constant memory).
        spool = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it when sent)
        exports.write_parquet(exporter, spool)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=f"{name}.parquet")
    writer = csv.writer(_Echo())

    def lines():
        for record in exports.csv_lines(exporter):
            yield writer.writerow(record)
        exporter.finish("csv")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
def my_year(request: HttpRequest) -> HttpResponse:
    """An employee's own answers and statuses over a year, e.g. for their performance appraisal."""
    employee = linked_employee(request.user)
    if employee is None:
        raise PermissionDenied("Your account is not linked to an employee on the roster.")
    weeks = Assignment.objects.filter(employee=employee).values_list("cycle__week_start", flat=True)
    years = sorted({day.year for day in weeks}, reverse=True)
    asked = request.GET.get("year", "")
    if asked.isdigit() and int(asked) in years:
        year = int(asked)
        cycles = list(
            Cycle.objects.filter(
                assignments__employee=employee,
                week_start__gte=dt.date(year, 1, 1),
                week_start__lte=dt.date(year, 12, 31),
            ).order_by("week_start")
        )
        scope = exports.ExportScope("employee", employee.employee_number)
        return _file(exports.Exporter(cycles, scope, request.user), "csv", f"lastweek-{year}-my-answers")
    return render(request, "dashboard/my_year.html", {"years": years, "employee": employee})

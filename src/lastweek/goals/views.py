"""OKR pages: a unit's tree with its parent chain, an objective with its charts and check-ins, and the
create/edit form. (Employees link their bullets to key results on their own pages, in `reports`.)

Every page asks access.okrs, through the models' `visible_to`, `editable_by` and `check_in_allowed`, who
may read or change what; nothing here decides on its own.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from lastweek.access.okrs import can_edit_okrs, can_read_agency, readable_agency_ids
from lastweek.access.scopes import linked_employee
from lastweek.goals import actions, progress
from lastweek.goals.actions import OkrError
from lastweek.goals.forms import CheckInForm, ObjectiveForm, key_result_formset, parent_candidates
from lastweek.goals.models import KeyResult, Objective
from lastweek.org.models import Agency, Unit

RECENT_CHECK_INS = 10


def _period(request: HttpRequest, objectives) -> tuple[str, list[str]]:
    """The period asked for, else the current quarter when it has objectives, else the latest that has."""
    periods = sorted(set(objectives.values_list("period", flat=True)), reverse=True)
    asked = request.GET.get("period", "")
    if asked:
        return asked, periods
    current = progress.period_of(timezone.localdate())
    return (current if current in periods or not periods else periods[0]), periods


def _with_key_results(objectives):
    return objectives.select_related("unit", "agency").prefetch_related(
        Prefetch("key_results", queryset=KeyResult.objects.order_by("position")),
        Prefetch("supports", queryset=KeyResult.objects.select_related("objective")),
    )


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Your unit's OKRs, or the agencies you may read."""
    employee = linked_employee(request.user)
    if employee is not None:
        return redirect("goals:unit", unit_id=employee.unit_id)
    ids = readable_agency_ids(request.user)
    agencies = Agency.objects.all() if ids is None else Agency.objects.filter(pk__in=sorted(ids))
    return render(request, "goals/index.html", {"agencies": agencies})


@login_required
def agency_okrs(request: HttpRequest, code: str) -> HttpResponse:
    agency = get_object_or_404(Agency, code=code)
    if not can_read_agency(request.user, agency):
        raise Http404
    period, periods = _period(request, Objective.objects.filter(agency=agency))
    objectives = _with_key_results(Objective.objects.filter(agency=agency, unit=None, period=period))
    top_units = Unit.objects.filter(agency=agency, parent=None).order_by("name")
    context = {
        "agency": agency,
        "period": period,
        "periods": periods,
        "objectives": objectives,
        "children": _children(top_units, period),
        "can_edit": can_edit_okrs(request.user, agency),
    }
    return render(request, "goals/agency.html", context)


@login_required
def unit_okrs(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A unit's objectives with progress, what each supports up to the agency, and the units below."""
    unit = get_object_or_404(Unit.objects.select_related("agency"), pk=unit_id)
    if not can_read_agency(request.user, unit.agency):
        raise Http404
    period, periods = _period(request, Objective.objects.filter(agency=unit.agency))
    objectives = list(_with_key_results(Objective.objects.filter(unit=unit, period=period)))
    for objective in objectives:
        objective.chain = actions.parent_chain(objective)
    context = {
        "unit": unit,
        "agency": unit.agency,
        "ancestors": unit.ancestors(),
        "period": period,
        "periods": periods,
        "objectives": objectives,
        "children": _children(unit.children.order_by("name"), period),
        "can_edit": can_edit_okrs(request.user, unit.agency, unit),
    }
    return render(request, "goals/unit.html", context)


def _children(units, period: str) -> list[tuple[Unit, list[Objective]]]:
    """Each unit one level down with its objectives for the period (two queries in all)."""
    units = list(units)
    objectives = _with_key_results(Objective.objects.filter(unit__in=units, period=period))
    by_unit: dict[int, list[Objective]] = {}
    for objective in objectives:
        by_unit.setdefault(objective.unit_id, []).append(objective)
    return [(unit, by_unit.get(unit.pk, [])) for unit in units]


@login_required
def objective_detail(request: HttpRequest, objective_id: int) -> HttpResponse:
    objective = _readable_objective(request, objective_id)
    key_results = list(objective.key_results.select_related("owner").order_by("position"))
    for key_result in key_results:
        history = list(key_result.check_ins.select_related("recorded_by").order_by("recorded_at", "id"))
        key_result.history = history
        key_result.recent = list(reversed(history))[:RECENT_CHECK_INS]
        key_result.chart_id = f"chart-data-{key_result.pk}"
        key_result.chart = {
            "label": key_result.reference,
            "unit": key_result.unit_of_measure,
            "start": float(key_result.start_value),
            "target": float(key_result.target_value),
            "points": [[entry.recorded_at.date().isoformat(), float(entry.value)] for entry in history],
        }
        key_result.may_check_in = key_result.check_in_allowed(request.user)
        key_result.form = CheckInForm(
            prefix=f"kr{key_result.pk}", initial={"value": key_result.current_value}
        )
    context = {
        "objective": objective,
        "key_results": key_results,
        "chain": actions.parent_chain(objective),
        "supported_by": objective_supporters(objective),
        "can_edit": objective.editable_by(request.user),
    }
    return render(request, "goals/objective.html", context)


def objective_supporters(objective: Objective) -> list[Objective]:
    return list(
        Objective.objects.filter(supports__objective=objective)
        .select_related("unit")
        .distinct()
        .order_by("code")
    )


def _readable_objective(request: HttpRequest, objective_id: int) -> Objective:
    objective = get_object_or_404(Objective.objects.select_related("agency", "unit"), pk=objective_id)
    if not can_read_agency(request.user, objective.agency):
        raise Http404
    return objective


@login_required
@require_http_methods(["GET", "POST"])
def objective_new(request: HttpRequest, code: str = "", unit_id: int | None = None) -> HttpResponse:
    if unit_id is not None:
        unit = get_object_or_404(Unit.objects.select_related("agency"), pk=unit_id)
        agency = unit.agency
    else:
        unit, agency = None, get_object_or_404(Agency, code=code)
    if not can_edit_okrs(request.user, agency, unit):
        raise PermissionDenied("Only managers of this unit and agency administrators create its objectives.")
    objective = Objective(agency=agency, unit=unit, period=progress.period_of(timezone.localdate()))
    return _edit(request, objective, extra=2)


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request: HttpRequest, objective_id: int) -> HttpResponse:
    objective = _readable_objective(request, objective_id)
    if not objective.editable_by(request.user):
        raise PermissionDenied("Only managers of this unit and agency administrators change its objectives.")
    return _edit(request, objective, extra=1)


def _edit(request: HttpRequest, objective: Objective, extra: int) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    period = (data or {}).get("period") or objective.period
    form = ObjectiveForm(data, instance=objective, candidates=parent_candidates(objective, period))
    formset = key_result_formset(extra)(data, instance=objective, prefix="kr")
    if data is not None and form.is_valid() and formset.is_valid():
        kept = [
            item.instance
            for item in formset.forms
            if item.has_changed() or item.instance.pk
            if not formset.can_delete or not item.cleaned_data.get("DELETE")
        ]
        try:
            saved = actions.save_objective(
                form.save(commit=False), kept, form.cleaned_data["supports"], actor=request.user
            )
        except OkrError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Saved {saved.code}: {saved.title}.")
            return redirect("goals:objective", objective_id=saved.pk)
    context = {"form": form, "formset": formset, "objective": objective}
    return render(request, "goals/objective_form.html", context)


@login_required
@require_POST
def check_in(request: HttpRequest, key_result_id: int) -> HttpResponse:
    key_result = get_object_or_404(KeyResult.objects.select_related("objective__agency"), pk=key_result_id)
    if not can_read_agency(request.user, key_result.objective.agency):
        raise Http404
    if not key_result.check_in_allowed(request.user):
        raise PermissionDenied("Only the key result's owner and the objective's editors check in.")
    form = CheckInForm(request.POST, prefix=f"kr{key_result.pk}")
    if form.is_valid():
        try:
            actions.check_in(
                key_result,
                form.cleaned_data["value"],
                confidence=form.cleaned_data["confidence"],
                comment=form.cleaned_data["comment"],
                actor=request.user,
            )
        except OkrError as error:
            messages.error(request, f"{key_result.reference}: {error.message}")
        else:
            messages.success(request, f"Checked in on {key_result.reference}.")
    else:
        problems = "; ".join(f"{name}: {errs[0]}" for name, errs in form.errors.items())
        messages.error(request, f"{key_result.reference}: nothing recorded ({problems}).")
    return redirect("goals:objective", objective_id=key_result.objective_id)


@login_required
@require_POST
def score(request: HttpRequest, objective_id: int) -> HttpResponse:
    objective = _readable_objective(request, objective_id)
    if not objective.editable_by(request.user):
        raise PermissionDenied("Only managers of this unit and agency administrators score its objectives.")
    scores = {}
    for key_result in objective.key_results.all():
        given = request.POST.get(f"score-{key_result.pk}", "").strip()
        if given:
            try:
                scores[key_result.pk] = float(given)
            except ValueError:
                messages.error(request, f"{key_result.reference}: {given!r} is not a score from 0.0 to 1.0.")
                return redirect("goals:objective", objective_id=objective.pk)
    try:
        actions.score_objective(objective, actor=request.user, scores=scores)
    except OkrError as exc:
        messages.error(request, f"Not closed: {exc}")
        return redirect("goals:objective", objective_id=objective.pk)
    messages.success(request, f"{objective.code} closed with a score of {objective.score}.")
    return redirect("goals:objective", objective_id=objective.pk)

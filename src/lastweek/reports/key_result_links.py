"""Linking one's own bullets to key results: the page (`/report/bullets/`). The bullets are the
employee's own answers, so the page lives with them; which key results a bullet may serve is the goals
app's (`KeyResult.objects.visible_to(user).aligned_with(employee)`), and the link itself is changed by
`goals.actions.link_bullet`, which audits it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lastweek.access.scopes import linked_employee
from lastweek.goals import actions
from lastweek.goals.models import KeyResult
from lastweek.reports.models import Bullet

RECENT_BULLETS = 30


@login_required
@require_http_methods(["GET", "POST"])
def my_bullets(request: HttpRequest) -> HttpResponse:
    """The signed-in employee's recent bullets, each with a select of the key results above them."""
    employee = linked_employee(request.user)
    bullets = list(
        Bullet.objects.filter(report__employee=employee)
        .select_related("report__cycle", "key_result__objective")
        .order_by("-report__received_at", "position")[:RECENT_BULLETS]
        if employee is not None
        else []
    )
    choices = aligned_key_results(request.user, employee) if employee is not None else []
    if request.method == "POST":
        return _link_bullets(request, bullets, {kr.pk: kr for kr in choices})
    return render(request, "reports/bullets.html", {"bullets": bullets, "choices": choices})


def aligned_key_results(user, employee) -> list[KeyResult]:
    """The key results an employee's bullets may serve, visible to them, newest period first."""
    return list(
        KeyResult.objects.visible_to(user)
        .aligned_with(employee)
        .select_related("objective__unit")
        .order_by("-objective__period", "objective__code", "position")
    )


def _link_bullets(request: HttpRequest, bullets: list[Bullet], choices: dict[int, KeyResult]) -> HttpResponse:
    changed = 0
    for bullet in bullets:
        field = f"bullet-{bullet.pk}"
        if field not in request.POST:
            continue
        raw = request.POST[field]
        chosen = choices.get(int(raw)) if raw.isdigit() else None
        if raw and chosen is None:
            messages.error(
                request, f"Bullet {bullet.position} of {bullet.report.cycle.week}: unknown key result."
            )
            continue
        if chosen != bullet.key_result:
            actions.link_bullet(bullet, chosen, actor=request.user)
            changed += 1
    messages.success(request, f"Saved {changed} link{'s' if changed != 1 else ''}.")
    return redirect("reports:bullets")

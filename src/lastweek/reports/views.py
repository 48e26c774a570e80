"""The employee page: this week's question, the answer form until the deadline, late answers after it,
and every past week with its receipts. Everything goes through `reports.submit()`; every read goes through
`reports.own` (the caller's own assignments and reports, via the access module)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lastweek.access.scopes import linked_employee
from lastweek.directives.models import StockAnswer
from lastweek.reports import submit
from lastweek.reports.actions import SubmissionError
from lastweek.reports.forms import AnswerForm
from lastweek.reports.models import Channel
from lastweek.reports.own import Week, own_weeks

logger = logging.getLogger(__name__)


@login_required
def my_weeks(request: HttpRequest) -> HttpResponse:
    """The open weeks first (what to answer, or why one is not asked), then past weeks and receipts."""
    now = timezone.now()
    weeks = own_weeks(request.user, now)
    context = {
        "employee": linked_employee(request.user),
        "open_weeks": [week for week in weeks if not week.closed],
        "past_weeks": [week for week in weeks if week.closed],
        "now": now,
    }
    return render(request, "reports/my_weeks.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def week(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """One week: the question and the form (prefilled with the current answer while it may be edited),
    or the read-only answer and a form for a late one; every answer sent, with its receipt."""
    current_week = _own_week(request, cycle_id)
    directive = current_week.cycle.directive
    initial = [b.text for b in current_week.current.bullets.all()] if current_week.current else []
    form = AnswerForm(directive, initial_bullets=initial if current_week.can_edit else [])
    if request.method == "POST":
        if not (current_week.can_edit or current_week.can_answer_late):
            messages.error(request, _why_closed(current_week))
            return redirect("reports:week", cycle_id=cycle_id)
        form = AnswerForm(directive, request.POST)
        if form.is_valid():
            stock = _chosen_stock_answer(request, current_week)
            filled = [("", stock.text)] if stock else form.filled()
            try:
                receipt = submit(
                    current_week.assignment,
                    [text for _, text in filled],
                    channel=Channel.WEB,
                    source_id=form.source_id(request.user.pk),
                    submitted_by=request.user,
                )
            except SubmissionError as error:
                form.add_submission_error(error, filled)
            else:
                messages.success(request, receipt.message)
                return redirect("reports:week", cycle_id=cycle_id)
    context = {"week": current_week, "form": form, "directive": directive}
    return render(request, "reports/week.html", context, status=400 if form.errors else 200)


def _own_week(request: HttpRequest, cycle_id: int) -> Week:
    """The caller's week in this cycle; another person's, or none, is not found."""
    found = own_weeks(request.user, timezone.now(), cycle_id=cycle_id)
    if not found:
        raise Http404("You are not asked in this cycle.")
    return found[0]


def _chosen_stock_answer(request: HttpRequest, current_week: Week) -> StockAnswer | None:
    """The stock answer whose button was pressed, if one of this directive's was."""
    chosen = request.POST.get("stock_answer", "")
    answers = current_week.cycle.directive.stock_answers.all()
    return next((answer for answer in answers if str(answer.pk) == chosen), None)


def _why_closed(current_week: Week) -> str:
    if current_week.closed:
        return f"Week {current_week.cycle.week} is closed; answers are no longer taken."
    reason = current_week.reason or "no reason was recorded"
    return f"You are not asked in week {current_week.cycle.week}: {reason}."

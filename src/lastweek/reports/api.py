"""The reports API: the directives and cycles the caller is part of, their own assignments, submitting
their answer and reading their own answers. Mounted at /api/ (see api/api.py).

A client reads only the caller's own reports: someone else's is not found (404), whoever asks and
whatever the id. Submissions go through `reports.submit()`; refusals are 400 (the content: empty, too many
bullets, too long, with the field, e.g. `bullets.2`) or 409 (the week: closed, or paused for the caller).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Header, Router, Schema, Status
from ninja.errors import HttpError

from lastweek.access.scopes import linked_employee, owned_directive_filter
from lastweek.directives.models import Cycle, Directive
from lastweek.goals import actions as goal_actions
from lastweek.goals.models import KeyResult
from lastweek.reports import submit
from lastweek.reports.actions import Receipt, SubmissionError
from lastweek.reports.models import Bullet, Channel, Report
from lastweek.reports.own import (
    assignment_reason,
    own_assignment,
    own_assignments,
    own_reports,
)

router = Router(tags=["reports"])
PAGE_LIMIT = 200
# Refusals about the week rather than the content of the answer.
CONFLICTS = {"closed", "paused"}


class StockAnswerOut(Schema):
    id: int
    text: str


class DirectiveOut(Schema):
    id: int
    title: str
    question: str
    instructions: str
    max_bullets: int
    max_bullet_length: int
    stock_answers: list[StockAnswerOut]

    @staticmethod
    def resolve_stock_answers(obj: Directive) -> list:
        return list(obj.stock_answers.all())


class CycleOut(Schema):
    id: int
    directive_id: int
    week: str
    opens_at: dt.datetime
    deadline: dt.datetime
    closes_at: dt.datetime
    state: str


class AssignmentOut(Schema):
    id: int
    cycle_id: int
    week: str = Field(alias="cycle.week")
    directive_id: int = Field(alias="cycle.directive_id")
    state: str = Field(alias="cycle.state")
    mode: str
    reason: str
    due_at: dt.datetime | None
    on_leave: bool

    @staticmethod
    def resolve_reason(obj) -> str:
        return assignment_reason(obj)


class BulletOut(Schema):
    position: int
    text: str


class ReportOut(Schema):
    id: int
    cycle_id: int
    week: str = Field(alias="cycle.week")
    channel: str
    received_at: dt.datetime
    on_time: bool
    is_current: bool
    receipt_code: str
    stock_answer: str | None
    bullets: list[BulletOut]

    @staticmethod
    def resolve_stock_answer(obj: Report) -> str | None:
        return obj.stock_answer.text if obj.stock_answer_id else None

    @staticmethod
    def resolve_bullets(obj: Report) -> list:
        return list(obj.bullets.all())


class SubmissionIn(Schema):
    bullets: list[str] = Field(default_factory=list, description="One accomplishment per item.")
    stock_answer_id: int | None = Field(
        default=None, description="Instead of bullets: one of the directive's stock answers."
    )


class ReceiptOut(Schema):
    report_id: int
    receipt_code: str
    cycle_id: int
    week: str
    received_at: dt.datetime
    on_time: bool
    is_current: bool
    bullets: int
    stock_answer: str | None
    duplicate: bool
    message: str


class ErrorOut(Schema):
    detail: str
    field: str | None = None
    code: str | None = None


class BulletLinkIn(Schema):
    key_result_id: int | None


class LinkedBulletOut(Schema):
    id: int
    text: str
    key_result: str | None

    @staticmethod
    def resolve_key_result(obj) -> str | None:
        return obj.key_result.reference if obj.key_result_id else None


def _assigned_directive_ids(request: HttpRequest):
    return own_assignments(request.user).values("cycle__directive_id")


def _visible_directives(request: HttpRequest):
    """Directives the caller is asked by (in any week) or whose owner office they hold."""
    directives = Directive.objects.filter(pk__in=_assigned_directive_ids(request))
    owned = owned_directive_filter(request.user)
    if owned is not None:
        directives = directives | Directive.objects.filter(owned)
    return directives.distinct()


@router.get("/directives", response=list[DirectiveOut])
def list_directives(request: HttpRequest) -> list[Directive]:
    """Directives the caller is asked by, or owns through their office."""
    return list(_visible_directives(request).prefetch_related("stock_answers").order_by("id")[:PAGE_LIMIT])


@router.get("/cycles", response=list[CycleOut])
def list_cycles(request: HttpRequest, state: str = "", directive_id: int | None = None) -> list[Cycle]:
    """Weeks of the directives above, newest first (at most 200; `state=open` for the open ones)."""
    cycles = Cycle.objects.filter(directive__in=_visible_directives(request))
    if state:
        cycles = cycles.filter(state=state)
    if directive_id is not None:
        cycles = cycles.filter(directive_id=directive_id)
    return list(cycles.order_by("-week_start", "directive_id")[:PAGE_LIMIT])


@router.get("/me/assignments", response=list[AssignmentOut])
def my_assignments(request: HttpRequest, state: str = ""):
    """The caller's own assignments, newest week first: whether they are asked, why, and by when."""
    assignments = own_assignments(request.user)
    if state:
        assignments = assignments.filter(cycle__state=state)
    return list(assignments[:PAGE_LIMIT])


def _own_reports(request: HttpRequest):
    return own_reports(request.user).select_related("cycle", "stock_answer").prefetch_related("bullets")


@router.get("/me/reports", response=list[ReportOut])
def my_reports(request: HttpRequest, cycle_id: int | None = None) -> list[Report]:
    """Every answer the caller sent (history), newest first; `cycle_id` narrows to one week."""
    reports = _own_reports(request)
    if cycle_id is not None:
        reports = reports.filter(cycle_id=cycle_id)
    return list(reports.order_by("-received_at", "-id")[:PAGE_LIMIT])


@router.get("/me/reports/{report_id}", response={200: ReportOut, 404: ErrorOut})
def my_report(request: HttpRequest, report_id: int):
    """One of the caller's answers; anyone else's is not found."""
    report = _own_reports(request).filter(pk=report_id).first()
    if report is None:
        return Status(404, {"detail": "You have no report with that id."})
    return report


@router.get("/cycles/{cycle_id}/report", response={200: ReportOut, 404: ErrorOut})
def my_current_report(request: HttpRequest, cycle_id: int):
    """The caller's answer that counts for one week."""
    report = _own_reports(request).filter(cycle_id=cycle_id, is_current=True).first()
    if report is None:
        return Status(404, {"detail": "You have no answer for that cycle yet."})
    return report


@router.post(
    "/cycles/{cycle_id}/report",
    response={201: ReceiptOut, 200: ReceiptOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def submit_report(
    request: HttpRequest,
    cycle_id: int,
    payload: SubmissionIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=200),
):
    """Submit the caller's answer for a week: bullets, or a stock answer. 201 with the receipt; a retry
    with the same `Idempotency-Key` header returns the first receipt (200) and stores nothing more."""
    if linked_employee(request.user) is None:
        raise HttpError(404, "This account is not linked to anyone on the roster.")
    assignment = own_assignment(request.user, cycle_id)
    if assignment is None:
        return Status(404, {"detail": "You are not asked in that cycle.", "field": "cycle_id"})
    bullets = payload.bullets
    if payload.stock_answer_id is not None:
        if bullets:
            return Status(
                400, {"detail": "Send bullets or a stock answer, not both.", "field": "stock_answer_id"}
            )
        stock = assignment.cycle.directive.stock_answers.filter(pk=payload.stock_answer_id).first()
        if stock is None:
            return Status(
                400, {"detail": "No stock answer of this directive has that id.", "field": "stock_answer_id"}
            )
        bullets = [stock.text]
    receipt = submit(
        assignment,
        bullets,
        channel=Channel.API,
        received_at=timezone.now(),
        source_id=f"{request.user.pk}:{idempotency_key}" if idempotency_key else "",
        submitted_by=request.user,
    )
    return Status(200 if receipt.duplicate else 201, _receipt_body(receipt))


# The path stays under /goals/ where clients first found it; the bullet is the caller's own answer, so
# the operation lives with the reports.
@router.put("/goals/bullets/{bullet_id}/key-result", response=LinkedBulletOut, tags=["goals"])
def link_bullet(request: HttpRequest, bullet_id: int, payload: BulletLinkIn) -> Bullet:
    """Link one of your own bullets to a key result you can see (null removes the link)."""
    bullet = get_object_or_404(
        Bullet.objects.select_related("report__employee"), pk=bullet_id, report__employee__user=request.user
    )
    key_result = None
    if payload.key_result_id is not None:
        key_result = KeyResult.objects.visible_to(request.user).filter(pk=payload.key_result_id).first()
        if key_result is None:
            raise goal_actions.OkrError(
                "No key result with that id is visible to you.", field="key_result_id"
            )
    return goal_actions.link_bullet(bullet, key_result, actor=request.user)


def _receipt_body(receipt: Receipt) -> dict:
    return {**receipt.__dict__, "message": receipt.message}


def submission_error_status(error: SubmissionError) -> int:
    return 409 if error.code in CONFLICTS else 400

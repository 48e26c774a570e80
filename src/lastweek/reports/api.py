"""The reports API: the directives and cycles the caller is part of, their own assignments, submitting
their answer and reading their own answers. Mounted at /api/ (see api/api.py).

A client reads only the caller's own reports: someone else's is not found (404), whoever asks and
whatever the id. Submissions go through `reports.submit()`; refusals are 400 (the content: empty, too many
bullets, too long, with the field, e.g. `bullets.2`) or 409 (the week is closed), each with its code
(api/errors.py). A paused or exempt caller's answer is taken as a voluntary one (`asked: false`). The
schema states the rules an answer's shape follows: bullets or a stock answer, not both, at least one
bullet with text, no NUL character.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Header, Router, Schema, Status
from pydantic import ConfigDict

from lastweek.access.scopes import linked_employee, owned_directive_filter
from lastweek.api_contract import ApiError, BodyId, Id, OptionalId, refusals, text
from lastweek.directives.models import Cycle, Directive
from lastweek.goals import actions as goal_actions
from lastweek.goals.models import KeyResult
from lastweek.reports import submit
from lastweek.reports.actions import Receipt
from lastweek.reports.models import Bullet, Channel, Report
from lastweek.reports.own import (
    assignment_reason,
    own_assignment,
    own_assignments,
    own_reports,
)

router = Router(tags=["reports"])
PAGE_LIMIT = 200
# What the API takes in one answer, whatever the directive: 50 bullets of 2,000 characters. A directive's
# own limits (`max_bullets`, `max_bullet_length`, 5 and 600 by default) are refused with 400
# (too_many_bullets, bullet_too_long): the schema cannot know them. The most such an answer can weigh as
# JSON (12 bytes a character, escaped) stays under the 2.5 MB a request body may have.
MAX_BULLETS = 50
MAX_BULLET_LENGTH = 2000
# A character that str.strip() keeps: submit() ignores bullets without one.
NOT_BLANK = "[^" + "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace()) + "]"
# The state of a week, to list only the open or the closed ones ("" lists both).
StateFilter = Literal["", "open", "closed"]


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


def _bullets_or_stock_answer(schema: dict[str, Any]) -> None:
    """One of: bullets, at least one with text (blank ones are ignored), or a stock answer (with no
    bullets, or an empty list). submit_report() refuses anything else with 400."""
    schema["oneOf"] = [
        {
            "title": "Bullets",
            "required": ["bullets"],
            "properties": {
                "bullets": {"contains": {"type": "string", "pattern": NOT_BLANK}},
                "stock_answer_id": {"type": "null"},
            },
        },
        {
            "title": "Stock answer",
            "required": ["stock_answer_id"],
            "properties": {"stock_answer_id": {"type": "integer"}, "bullets": {"maxItems": 0}},
        },
    ]


class SubmissionIn(Schema):
    model_config = ConfigDict(json_schema_extra=_bullets_or_stock_answer)

    bullets: list[text(MAX_BULLET_LENGTH)] = Field(
        default_factory=list,
        max_length=MAX_BULLETS,
        description="One accomplishment per item, within the directive's `max_bullets` and "
        "`max_bullet_length` (400 beyond them).",
    )
    stock_answer_id: BodyId | None = Field(
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
    asked: bool = Field(
        description="False when the caller's request is paused or they are exempt: the answer is kept as a "
        "voluntary one that never counts for or against them."
    )
    message: str


class BulletLinkIn(Schema):
    key_result_id: BodyId | None = Field(description="A key result you can see; null removes the link.")


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
def list_cycles(
    request: HttpRequest, state: StateFilter = "", directive_id: OptionalId = None
) -> list[Cycle]:
    """Weeks of the directives above, newest first (at most 200; `state=open` for the open ones)."""
    cycles = Cycle.objects.filter(directive__in=_visible_directives(request))
    if state:
        cycles = cycles.filter(state=state)
    if directive_id is not None:
        cycles = cycles.filter(directive_id=directive_id)
    return list(cycles.order_by("-week_start", "directive_id")[:PAGE_LIMIT])


@router.get("/me/assignments", response=list[AssignmentOut])
def my_assignments(request: HttpRequest, state: StateFilter = ""):
    """The caller's own assignments, newest week first: whether they are asked, why, and by when."""
    assignments = own_assignments(request.user)
    if state:
        assignments = assignments.filter(cycle__state=state)
    return list(assignments[:PAGE_LIMIT])


def _own_reports(request: HttpRequest):
    return own_reports(request.user).select_related("cycle", "stock_answer").prefetch_related("bullets")


@router.get("/me/reports", response=list[ReportOut])
def my_reports(request: HttpRequest, cycle_id: OptionalId = None) -> list[Report]:
    """Every answer the caller sent (history), newest first; `cycle_id` narrows to one week."""
    reports = _own_reports(request)
    if cycle_id is not None:
        reports = reports.filter(cycle_id=cycle_id)
    return list(reports.order_by("-received_at", "-id")[:PAGE_LIMIT])


@router.get("/me/reports/{report_id}", response={200: ReportOut, **refusals(404)})
def my_report(request: HttpRequest, report_id: Id) -> Report:
    """One of the caller's answers; anyone else's is not found."""
    report = _own_reports(request).filter(pk=report_id).first()
    if report is None:
        raise ApiError(404, "not_found", "You have no report with that id.", "report_id")
    return report


@router.get("/cycles/{cycle_id}/report", response={200: ReportOut, **refusals(404)})
def my_current_report(request: HttpRequest, cycle_id: Id) -> Report:
    """The caller's answer that counts for one week."""
    report = _own_reports(request).filter(cycle_id=cycle_id, is_current=True).first()
    if report is None:
        raise ApiError(404, "not_found", "You have no answer for that cycle yet.", "cycle_id")
    return report


@router.post(
    "/cycles/{cycle_id}/report", response={201: ReceiptOut, 200: ReceiptOut, **refusals(400, 404, 409)}
)
def submit_report(
    request: HttpRequest,
    cycle_id: Id,
    payload: SubmissionIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=200),
):
    """Submit the caller's answer for a week: bullets, or a stock answer. 201 with the receipt; a retry
    with the same `Idempotency-Key` header returns the first receipt (200) and stores nothing more."""
    if linked_employee(request.user) is None:
        raise ApiError(404, "not_on_roster", "This account is not linked to anyone on the roster.")
    assignment = own_assignment(request.user, cycle_id)
    if assignment is None:
        raise ApiError(404, "not_asked", "You are not asked in that cycle.", "cycle_id")
    bullets = payload.bullets
    if payload.stock_answer_id is not None:
        if bullets:
            raise ApiError(
                400,
                "bullets_and_stock_answer",
                "Send bullets or a stock answer, not both.",
                "stock_answer_id",
            )
        stock = assignment.cycle.directive.stock_answers.filter(pk=payload.stock_answer_id).first()
        if stock is None:
            raise ApiError(
                400,
                "unknown_stock_answer",
                "No stock answer of this directive has that id.",
                "stock_answer_id",
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
@router.put(
    "/goals/bullets/{bullet_id}/key-result",
    response={200: LinkedBulletOut, **refusals(400, 404)},
    tags=["goals"],
)
def link_bullet(request: HttpRequest, bullet_id: Id, payload: BulletLinkIn) -> Bullet:
    """Link one of your own bullets to a key result you can see (null removes the link)."""
    bullet = (
        Bullet.objects.select_related("report__employee")
        .filter(pk=bullet_id, report__employee__user=request.user)
        .first()
    )
    if bullet is None:
        raise ApiError(404, "not_found", "You have no bullet with that id.", "bullet_id")
    key_result = None
    if payload.key_result_id is not None:
        key_result = KeyResult.objects.visible_to(request.user).filter(pk=payload.key_result_id).first()
        if key_result is None:
            raise goal_actions.OkrError(
                "No key result with that id is visible to you.",
                field="key_result_id",
                code="unknown_key_result",
            )
    return goal_actions.link_bullet(bullet, key_result, actor=request.user)


def _receipt_body(receipt: Receipt) -> dict:
    return {**receipt.__dict__, "message": receipt.message}

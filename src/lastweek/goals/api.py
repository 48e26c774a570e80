"""The goals API (mounted at /api/goals/): objectives and key results, check-ins, bullet links.

Scoped like the pages, by access.okrs: objectives outside the caller's agencies do not exist for
them (404), changes they may not make are refused (403), inconsistent input is a 400 naming the field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from lastweek.goals import actions
from lastweek.goals.models import KeyResult, Objective

router = Router(tags=["goals"])
PAGE_LIMIT = 200


class KeyResultOut(Schema):
    id: int
    reference: str
    title: str
    metric: str
    start: Decimal = Field(alias="start_value")
    target: Decimal = Field(alias="target_value")
    current: Decimal = Field(alias="current_value")
    unit_of_measure: str
    progress: float
    score: Decimal | None

    @staticmethod
    def resolve_progress(obj: KeyResult) -> float:
        return round(obj.progress(), 4)


class ObjectiveOut(Schema):
    id: int
    agency: str = Field(alias="agency.code")
    unit_id: int | None
    period: str
    code: str
    title: str
    status: str
    owner_role: str
    progress: float | None
    score: Decimal | None
    supports: list[str]

    @staticmethod
    def resolve_progress(obj: Objective) -> float | None:
        value = obj.progress()
        return round(value, 4) if value is not None else None

    @staticmethod
    def resolve_supports(obj: Objective) -> list[str]:
        return [kr.reference for kr in obj.supports.all()]


class ObjectiveDetail(ObjectiveOut):
    description: str
    key_results: list[KeyResultOut]

    @staticmethod
    def resolve_key_results(obj: Objective) -> list[KeyResult]:
        return list(obj.key_results.order_by("position"))


class CheckInIn(Schema):
    value: Decimal
    confidence: int = Field(ge=1, le=10)
    comment: str = ""


class CheckInOut(Schema):
    id: int
    key_result: str
    value: Decimal
    confidence: int
    comment: str
    recorded_by: str | None
    recorded_at: dt.datetime

    @staticmethod
    def resolve_key_result(obj) -> str:
        return obj.key_result.reference

    @staticmethod
    def resolve_recorded_by(obj) -> str | None:
        return obj.recorded_by.get_username() if obj.recorded_by_id else None


@router.get("/objectives", response=list[ObjectiveOut])
def list_objectives(
    request: HttpRequest, agency: str = "", period: str = "", unit_id: int | None = None
) -> list[Objective]:
    """Objectives visible to the caller, newest period first (at most 200; narrow with the filters)."""
    objectives = Objective.objects.visible_to(request.user).select_related("agency")
    if agency:
        objectives = objectives.filter(agency__code=agency)
    if period:
        objectives = objectives.filter(period=period)
    if unit_id is not None:
        objectives = objectives.filter(unit_id=unit_id)
    objectives = objectives.prefetch_related("key_results", "supports__objective")
    return list(objectives.order_by("-period", "code")[:PAGE_LIMIT])


@router.get("/objectives/{objective_id}", response=ObjectiveDetail)
def get_objective(request: HttpRequest, objective_id: int) -> Objective:
    return get_object_or_404(
        Objective.objects.visible_to(request.user).select_related("agency"), pk=objective_id
    )


@router.get("/key-results/{key_result_id}/check-ins", response=list[CheckInOut])
def list_check_ins(request: HttpRequest, key_result_id: int):
    key_result = get_object_or_404(KeyResult.objects.visible_to(request.user), pk=key_result_id)
    return list(key_result.check_ins.select_related("key_result__objective", "recorded_by"))


@router.post("/key-results/{key_result_id}/check-ins", response={201: CheckInOut})
def create_check_in(request: HttpRequest, key_result_id: int, payload: CheckInIn):
    key_result = get_object_or_404(
        KeyResult.objects.visible_to(request.user).select_related("objective"), pk=key_result_id
    )
    if not key_result.check_in_allowed(request.user):
        raise HttpError(403, "Only the key result's owner and the objective's editors check in.")
    entry = actions.check_in(
        key_result, payload.value, confidence=payload.confidence, comment=payload.comment, actor=request.user
    )
    return Status(201, entry)

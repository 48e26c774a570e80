"""The goals API (mounted at /api/goals/): objectives and key results, check-ins, bullet links.

Scoped like the pages, by access.okrs: objectives outside the caller's agencies do not exist for
them (404), changes they may not make are refused (403), input inconsistent with what is stored (a value
outside the key result's metric) is a 400 naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from lastweek.api_contract import ApiError, Id, OptionalId, body_integer, refusals, text
from lastweek.goals import actions
from lastweek.goals.models import KeyResult, Objective

router = Router(tags=["goals"])
PAGE_LIMIT = 200
# A check-in's value is stored with 2 decimals in 14 digits: more decimals are rounded, more digits refused.
MAX_VALUE = Decimal("999999999999.99")
# The value as text: an optional minus, up to 12 digits, up to 2 decimals ("1500", "-2.5", "97.25").
VALUE_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"
# Filters: an agency's code (a 16-character column), a period as 2026-Q4 or 2026; "" filters nothing.
AgencyFilter = text(16)
PeriodFilter = text(pattern="^([0-9]{4}(-Q[1-4])?)?$")


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


def _check_in_value(value: object) -> object:
    # Decimal() takes "1e3", " 7 " and True; the schema promises a JSON number or VALUE_PATTERN's text.
    if isinstance(value, bool) or (isinstance(value, str) and not re.fullmatch(VALUE_PATTERN, value)):
        raise PydanticCustomError("decimal_type", 'Send a number, or its digits as text ("97.25").')
    return value


CheckInValue = Annotated[
    Decimal,
    BeforeValidator(_check_in_value),
    Field(ge=-MAX_VALUE, le=MAX_VALUE, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": -float(MAX_VALUE), "maximum": float(MAX_VALUE)},
                {"type": "string", "pattern": VALUE_PATTERN},
            ],
            "description": "The key result's value now; stored with 2 decimals.",
        }
    ),
]


class CheckInIn(Schema):
    value: CheckInValue
    confidence: body_integer(1, 10)
    comment: text() = ""


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
    request: HttpRequest,
    agency: AgencyFilter = "",
    period: PeriodFilter = "",
    unit_id: OptionalId = None,
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


@router.get("/objectives/{objective_id}", response={200: ObjectiveDetail, **refusals(404)})
def get_objective(request: HttpRequest, objective_id: Id) -> Objective:
    objective = (
        Objective.objects.visible_to(request.user).select_related("agency").filter(pk=objective_id).first()
    )
    if objective is None:
        raise ApiError(404, "not_found", "No objective with that id is visible to you.", "objective_id")
    return objective


@router.get("/key-results/{key_result_id}/check-ins", response={200: list[CheckInOut], **refusals(404)})
def list_check_ins(request: HttpRequest, key_result_id: Id):
    key_result = _key_result(request, key_result_id)
    return list(key_result.check_ins.select_related("key_result__objective", "recorded_by"))


@router.post("/key-results/{key_result_id}/check-ins", response={201: CheckInOut, **refusals(400, 403, 404)})
def create_check_in(request: HttpRequest, key_result_id: Id, payload: CheckInIn):
    key_result = _key_result(request, key_result_id)
    if not key_result.check_in_allowed(request.user):
        raise ApiError(403, "not_editor", "Only the key result's owner and the objective's editors check in.")
    entry = actions.check_in(
        key_result, payload.value, confidence=payload.confidence, comment=payload.comment, actor=request.user
    )
    return Status(201, entry)


def _key_result(request: HttpRequest, key_result_id: int) -> KeyResult:
    found = (
        KeyResult.objects.visible_to(request.user)
        .select_related("objective")
        .filter(pk=key_result_id)
        .first()
    )
    if found is None:
        raise ApiError(404, "not_found", "No key result with that id is visible to you.", "key_result_id")
    return found

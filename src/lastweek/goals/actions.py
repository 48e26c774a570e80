"""Everything that changes objectives, key results, check-ins and bullet links. Each change is audited.

Callers (views, the API, the file import, the synthetic data) decide *who* may act through
`access.okrs`; these functions check *what* is consistent: a supported key result belongs to a
higher level of the same agency, values fit their metric, a bullet is linked only by its author.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from lastweek import audit
from lastweek.goals import progress
from lastweek.goals.models import CheckIn, KeyResult, Objective, metric_errors
from lastweek.org.models import Agency, Unit

User = AbstractBaseUser | AnonymousUser | None


class OkrError(Exception):
    """A change that was not made: `message` says why, `field` names the input at fault when one is, and
    `code` is stable for programs (the API answers it)."""

    def __init__(self, message: str, field: str = "", code: str = "inconsistent") -> None:
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


# Alignment


def support_error(objective: Objective, key_result: KeyResult) -> str:
    """Why `objective` may not support `key_result` ("" when it may).

    A parent key result belongs to the same agency and to a strictly higher level: the agency itself, or
    a unit above the objective's. Alignment therefore always points up the tree and can never loop.
    """
    parent = key_result.objective
    if parent.pk == objective.pk:
        return f"{key_result.reference} is one of this objective's own key results."
    if parent.agency_id != objective.agency_id:
        return f"{key_result.reference} belongs to another agency."
    if objective.unit_id is None:
        return f"{key_result.reference}: an agency-wide objective has no higher level to support."
    if parent.unit_id is None:
        return ""
    if objective.unit.path != parent.unit.path and objective.unit.path.startswith(parent.unit.path):
        return ""
    return f"{key_result.reference} belongs to {parent.unit}, which is not above {objective.unit}."


def parent_chain(objective: Objective) -> list[list[Objective]]:
    """The objectives above this one, level by level (nearest first, the agency's last): at each step,
    the objectives owning the key results the previous level supports."""
    levels: list[list[Objective]] = []
    current = [objective]
    seen = {objective.pk}
    while current:
        above = (
            Objective.objects.filter(key_results__supported_by__in=current)
            .exclude(pk__in=seen)
            .select_related("unit", "agency")
            .distinct()
            .order_by(models.F("unit__depth").desc(nulls_last=True), "code")
        )
        current = list(above)
        seen.update(item.pk for item in current)
        if current:
            levels.append(current)
    return levels


# Objectives and key results


def next_code(agency: Agency, unit: Unit | None, period: str) -> str:
    """A free code for a new objective: the unit's initials (or the agency code) and a number, "VBA-3"."""
    prefix = initials(unit.name) if unit is not None else agency.code
    taken = set(Objective.objects.filter(agency=agency, period=period).values_list("code", flat=True))
    number = 1
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


def initials(name: str) -> str:
    """ "Veterans Benefits Administration" -> "VBA"; small words are skipped."""
    words = [word for word in re.findall(r"[A-Za-z]+", name) if word.lower() not in SMALL_WORDS]
    return "".join(word[0].upper() for word in words)[:8] or "U"


SMALL_WORDS = {"of", "the", "and", "for", "a", "an", "on", "in", "to", "s"}


@transaction.atomic
def save_objective(
    objective: Objective,
    key_results: Sequence[KeyResult],
    supports: Iterable[KeyResult] = (),
    *,
    actor: User,
) -> Objective:
    """Create or update an objective with its key results (in the order given) and what it supports.

    Key results already stored and not in `key_results` are removed, with their check-ins. Raises
    OkrError, naming the field, when anything is inconsistent; nothing is written then.
    """
    creating = objective.pk is None
    if objective.unit_id is not None:
        objective.agency_id = objective.unit.agency_id
    if not objective.code:
        objective.code = next_code(objective.agency, objective.unit, objective.period)
    _validate(objective, exclude=["supports"])
    if not key_results:
        raise OkrError("An objective needs at least one key result.", field="key_results")
    objective.save()
    _replace_key_results(objective, key_results)
    supported = list(supports)
    for key_result in supported:
        if reason := support_error(objective, key_result):
            raise OkrError(reason, field="supports")
    objective.supports.set(supported)
    audit.record(
        actor,
        "okr.create" if creating else "okr.update",
        target=objective,
        scope=f"unit:{objective.unit_id}" if objective.unit_id else f"agency:{objective.agency.code}",
        detail={"code": objective.code, "period": objective.period, "key_results": len(key_results)},
    )
    return objective


def _replace_key_results(objective: Objective, key_results: Sequence[KeyResult]) -> None:
    kept = [kr.pk for kr in key_results if kr.pk is not None]
    objective.key_results.exclude(pk__in=kept).delete()
    # Positions move through a free range first so the (objective, position) constraint never trips.
    objective.key_results.update(position=models.F("position") + 1000)
    for position, key_result in enumerate(key_results, start=1):
        key_result.objective = objective
        key_result.position = position
        _validate(key_result, exclude=["objective"], prefix=f"key result {position}")
        key_result.save()


def _validate(instance: models.Model, *, exclude: list[str], prefix: str = "") -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        where = f"{prefix}: " if prefix else ""
        name = field.replace("_", " ") if field != "__all__" else ""
        raise OkrError(f"{where}{name + ': ' if name else ''}{messages[0]}", field=field) from error
    if isinstance(instance, Objective) and _code_taken(instance):
        raise OkrError(
            f"Code {instance.code} is already used in {instance.agency.code} for {instance.period}.",
            field="code",
        )


def _code_taken(objective: Objective) -> bool:
    same = Objective.objects.filter(
        agency_id=objective.agency_id, period=objective.period, code=objective.code
    )
    return same.exclude(pk=objective.pk).exists()


# Check-ins and scores


@transaction.atomic
def check_in(
    key_result: KeyResult,
    value: Decimal,
    *,
    confidence: int,
    comment: str = "",
    actor: User,
    at: dt.datetime | None = None,
) -> CheckIn:
    """Record a progress update; the key result's current value becomes the latest check-in's."""
    value = Decimal(value)
    errors = metric_errors(key_result.metric, None, None, value)
    if errors:
        raise OkrError(next(iter(errors.values())), field="value", code="value_outside_metric")
    if not 1 <= int(confidence) <= 10:
        raise OkrError(
            "Confidence is from 1 (unlikely) to 10 (certain).",
            field="confidence",
            code="confidence_out_of_range",
        )
    at = at or timezone.now()
    entry = CheckIn.objects.create(
        key_result=key_result,
        value=value,
        confidence=confidence,
        comment=comment.strip(),
        recorded_by=audit.acting_user(actor),
        recorded_at=at,
    )
    latest = key_result.check_ins.order_by("-recorded_at", "-id").first()
    if latest.pk == entry.pk:
        KeyResult.objects.filter(pk=key_result.pk).update(current_value=value)
        key_result.current_value = value
    audit.record(
        actor,
        "okr.check_in",
        target=key_result,
        detail={"value": str(value), "confidence": confidence, "reference": key_result.reference},
    )
    return entry


@transaction.atomic
def score_objective(
    objective: Objective, *, actor: User, scores: dict[int, float] | None = None
) -> Objective:
    """Close the objective with a 0.0 to 1.0 score per key result (given, or its final progress) and their
    mean as the objective's."""
    given = scores or {}
    key_results = list(objective.key_results.all())
    # Check every score before writing any, so a bad one leaves the objective as it was.
    raws = {kr.pk: float(given.get(kr.pk, kr.progress())) for kr in key_results}
    for key_result in key_results:
        if not 0 <= raws[key_result.pk] <= 1:
            raise OkrError(f"{key_result.reference}: a score is between 0.0 and 1.0.", field="scores")
    values = []
    for key_result in key_results:
        key_result.score = Decimal(str(progress.score(raws[key_result.pk])))
        key_result.save(update_fields=["score"])
        values.append(float(key_result.score))
    mean = progress.objective_progress(values)
    objective.score = Decimal(str(round(mean, 2))) if mean is not None else None
    objective.status = Objective.Status.CLOSED
    objective.save(update_fields=["score", "status", "updated_at"])
    audit.record(actor, "okr.score", target=objective, detail={"score": str(objective.score)})
    return objective


# Bullets


def link_bullet(bullet: models.Model, key_result: KeyResult | None, *, actor: User) -> models.Model:
    """Link one of the actor's own bullets to a key result visible to them (None removes the link)."""
    author = bullet.report.employee
    if actor is None or not actor.is_authenticated or author.user_id != actor.pk:
        raise OkrError(
            "Only the bullet's author links it to a key result.", field="bullet", code="not_author"
        )
    if key_result is not None and not KeyResult.objects.visible_to(actor).filter(pk=key_result.pk).exists():
        raise OkrError(
            "That key result is not one you can see.", field="key_result", code="unknown_key_result"
        )
    bullet.key_result = key_result
    bullet.key_result_linked_at = timezone.now() if key_result is not None else None
    bullet.save(update_fields=["key_result", "key_result_linked_at"])
    audit.record(
        actor,
        "bullet.link_key_result",
        target=bullet,
        detail={"key_result": key_result.reference if key_result is not None else None},
    )
    return bullet

"""Objectives and key results per unit, cascading: an objective supports key results of higher units.

An objective belongs to an agency, and to one of its units unless it is agency-wide (`unit` blank). It is
owned by an office — its unit and a role there, like "Director" — not by a person, so it outlives staff
changes. Its key results are measured (number, percentage, yes/no, milestones) and move by check-ins,
which are kept as history. The reports app links bullets to key results (`Bullet.key_result`).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from lastweek.access.okrs import can_check_in, can_edit_okrs, okr_filter
from lastweek.goals import progress
from lastweek.org.models import Agency, Employee, Unit

period_validator = RegexValidator(
    progress.PERIOD_PATTERN, "Write the period as YYYY-Qn (2026-Q4) or a year (2026)."
)


class Metric(models.TextChoices):
    NUMBER = progress.NUMBER, "Number"
    PERCENTAGE = progress.PERCENTAGE, "Percentage"
    YES_NO = progress.YES_NO, "Yes / no"
    MILESTONE = progress.MILESTONE, "Milestones"


class ObjectiveQuerySet(models.QuerySet["Objective"]):
    def visible_to(self, user) -> ObjectiveQuerySet:
        """The objectives `user` may read (the rule: `access.okrs`)."""
        return self.filter(okr_filter(user))


class KeyResultQuerySet(models.QuerySet["KeyResult"]):
    def visible_to(self, user) -> KeyResultQuerySet:
        """The key results `user` may read (and link their own bullets to)."""
        return self.filter(okr_filter(user, via="objective__"))

    def aligned_with(self, employee: Employee) -> KeyResultQuerySet:
        """The key results an employee's bullets may serve: current ones of their unit, the units above
        it and their agency."""
        ancestor_ids = [int(part) for part in employee.unit.path.strip("/").split("/")]
        return self.filter(
            models.Q(objective__unit_id__in=ancestor_ids)
            | models.Q(objective__unit=None, objective__agency_id=employee.agency_id),
            objective__status__in=[Objective.Status.ACTIVE, Objective.Status.DRAFT],
        )


class Objective(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed and scored"
        CANCELLED = "cancelled", "Cancelled"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="objectives")
    unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objectives",
        help_text="Blank for an agency-wide objective.",
    )
    period = models.CharField(max_length=7, validators=[period_validator], help_text="e.g. 2026-Q4 or 2026")
    code = models.CharField(
        max_length=32,
        help_text="Short reference, unique in the agency and period, e.g. VBA-2; files and API use it.",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_role = models.CharField(
        max_length=200,
        blank=True,
        help_text="The position in the unit accountable for it (a role, not a person), e.g. 'Director'.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    supports = models.ManyToManyField(
        "KeyResult",
        blank=True,
        related_name="supported_by",
        help_text="Key results of higher units (or of the agency) this objective moves.",
    )
    score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["agency_id", "period", "code"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "period", "code"], name="objective_code_once"),
        ]
        indexes = [models.Index(fields=["unit", "period"], name="objective_unit_period_idx")]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"

    @property
    def level_name(self) -> str:
        return self.unit.name if self.unit_id else self.agency.name

    def progress(self) -> float | None:
        return progress.objective_progress(kr.progress() for kr in self.key_results.all())

    def editable_by(self, user) -> bool:
        """Whether `user` may change this objective (the rule: `access.okrs.can_edit_okrs`)."""
        return can_edit_okrs(user, self.agency, self.unit)

    def clean(self) -> None:
        if self.unit_id and self.agency_id and self.unit.agency_id != self.agency_id:
            raise ValidationError({"unit": "The unit belongs to another agency."})


class KeyResult(models.Model):
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    position = models.PositiveSmallIntegerField(help_text="1, 2, 3… within the objective.")
    title = models.CharField(max_length=200)
    metric = models.CharField(max_length=16, choices=Metric.choices, default=Metric.NUMBER)
    start_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    target_value = models.DecimalField(max_digits=14, decimal_places=2)
    current_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    unit_of_measure = models.CharField(max_length=40, blank=True, help_text="e.g. claims, days, %")
    owner = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="key_results"
    )
    score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)

    objects = KeyResultQuerySet.as_manager()

    class Meta:
        ordering = ["objective_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["objective", "position"], name="key_result_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    @property
    def reference(self) -> str:
        """ "VBA-2.1": the objective's code and the key result's position, as files and the API write it."""
        return f"{self.objective.code}.{self.position}"

    def progress(self) -> float:
        return progress.kr_progress(self.metric, self.start_value, self.target_value, self.current_value)

    def check_in_allowed(self, user) -> bool:
        """Whether `user` may check in: the owner and the objective's editors (`access.okrs`)."""
        owner_user_id = self.owner.user_id if self.owner_id else None
        objective = self.objective
        return can_check_in(user, owner_user_id=owner_user_id, agency=objective.agency, unit=objective.unit)

    def clean(self) -> None:
        errors = metric_errors(self.metric, self.start_value, self.target_value, self.current_value)
        if errors:
            raise ValidationError(errors)


def metric_errors(metric: str, start, target, current) -> dict[str, str]:
    """What is wrong with a key result's values for its metric, by field ({} when nothing is)."""
    errors: dict[str, str] = {}
    values = {"start_value": start, "target_value": target, "current_value": current}
    if metric == Metric.PERCENTAGE:
        for name, value in values.items():
            if value is not None and not 0 <= value <= 100:
                errors[name] = "A percentage is between 0 and 100."
    elif metric == Metric.YES_NO:
        for name, value in values.items():
            if value is not None and value not in (0, 1):
                errors[name] = "A yes/no result takes 0 (no) or 1 (yes)."
        if target is not None and target != 1:
            errors["target_value"] = "A yes/no result's target is 1 (yes)."
    elif metric == Metric.MILESTONE:
        if target is not None and (target < 1 or target != int(target)):
            errors["target_value"] = "The target is the number of milestones planned (1 or more)."
        if start is not None and target is not None and start >= target:
            errors["start_value"] = "Milestones reached at the start must be fewer than planned."
    return errors


class CheckIn(models.Model):
    """A progress update on a key result: the value then, how confident its owner is, and why."""

    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="check_ins")
    value = models.DecimalField(max_digits=14, decimal_places=2)
    confidence = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="How likely the target is met by the end of the period, 1 (unlikely) to 10 (certain).",
    )
    comment = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["key_result_id", "recorded_at", "id"]
        indexes = [models.Index(fields=["key_result", "recorded_at"], name="checkin_kr_time_idx")]

    def __str__(self) -> str:
        return f"{self.key_result.reference} = {self.value} on {self.recorded_at:%Y-%m-%d}"

"""What an employee answered for a cycle. Every answer is kept; one per assignment is current (the one
compliance counts). Written only through `reports.submit()`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from lastweek.directives.models import Assignment, Cycle, StockAnswer
from lastweek.org.models import Employee


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEB = "web", "Web form"
    API = "api", "API"
    IMPORT = "import", "Import"


class Report(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="reports")
    # Copies of the assignment's, so per-cycle and per-person reads need no join.
    # Covered by the (cycle, employee) and (employee, received_at) indexes below.
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="reports", db_index=False)
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="reports", db_index=False)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    source_id = models.CharField(
        max_length=255, blank=True, help_text="The Message-ID or request key; the same one is stored once."
    )
    received_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    on_time = models.BooleanField()
    is_current = models.BooleanField(default=False, help_text="The answer compliance counts.")
    stock_answer = models.ForeignKey(StockAnswer, null=True, blank=True, on_delete=models.PROTECT)
    exceeds_max_bullets = models.BooleanField(default=False)
    receipt_code = models.CharField(max_length=16, unique=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_id"], condition=~Q(source_id=""), name="report_source_once"
            ),
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(is_current=True), name="report_one_current"
            ),
        ]
        indexes = [
            models.Index(fields=["cycle", "employee"], name="report_cycle_employee_idx"),
            models.Index(fields=["employee", "received_at"], name="report_employee_idx"),
        ]

    def __str__(self) -> str:
        return f"Report {self.receipt_code} for {self.assignment_id}"


class Bullet(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="bullets")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    # Manual alignment: the author links a bullet to a key result visible to them (goals.actions).
    key_result = models.ForeignKey(
        "goals.KeyResult", null=True, blank=True, on_delete=models.SET_NULL, related_name="bullets"
    )
    key_result_linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["report_id", "position"]
        constraints = [models.UniqueConstraint(fields=["report", "position"], name="bullet_position_once")]

    def __str__(self) -> str:
        return self.text[:60]

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
    # No database foreign keys on reports and bullets (db_constraint=False), as on assignments: checking
    # them was a third of PostgreSQL's work on a mailbox import (a trigger query per key per row, five
    # keys a report and one a bullet). The rows are only ever written by submit() and submit_many() from
    # loaded assignments, reports are never deleted, and PROTECT still stops the ORM deleting what they
    # name.
    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="reports", db_constraint=False
    )
    # Copies of the assignment's, so per-cycle and per-person reads need no join.
    # Covered by the (cycle, employee) and (employee, received_at) indexes below.
    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="reports", db_index=False, db_constraint=False
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="reports", db_index=False, db_constraint=False
    )
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
        db_constraint=False,
    )
    on_time = models.BooleanField()
    is_current = models.BooleanField(default=False, help_text="The answer compliance counts.")
    # Indexed where set (below): most answers are not a stock answer.
    stock_answer = models.ForeignKey(
        StockAnswer, null=True, blank=True, on_delete=models.PROTECT, db_index=False, db_constraint=False
    )
    exceeds_max_bullets = models.BooleanField(default=False)
    # Unique by a constraint (below), not unique=True, which on PostgreSQL adds a second, pattern-matching
    # index that no query uses.
    receipt_code = models.CharField(max_length=16)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_id"], condition=~Q(source_id=""), name="report_source_once"
            ),
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(is_current=True), name="report_one_current"
            ),
            models.UniqueConstraint(fields=["receipt_code"], name="receipt_code_once"),
        ]
        indexes = [
            models.Index(fields=["cycle", "employee"], name="report_cycle_employee_idx"),
            models.Index(fields=["employee", "received_at"], name="report_employee_idx"),
            models.Index(
                fields=["stock_answer"],
                condition=Q(stock_answer__isnull=False),
                name="report_stock_answer_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.receipt_code} for {self.assignment_id}"


class Bullet(models.Model):
    # Looked up through the (report, position) unique index; no database foreign key (see Report).
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="bullets", db_index=False, db_constraint=False
    )
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    # Manual alignment: the author links a bullet to a key result visible to them (goals.actions).
    # Indexed where set (below); the ORM sets it to NULL when the key result is deleted.
    key_result = models.ForeignKey(
        "goals.KeyResult",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bullets",
        db_index=False,
        db_constraint=False,
    )
    key_result_linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["report_id", "position"]
        constraints = [models.UniqueConstraint(fields=["report", "position"], name="bullet_position_once")]
        indexes = [
            models.Index(
                fields=["key_result"], condition=Q(key_result__isnull=False), name="bullet_key_result_idx"
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]

"""Compliance's own tables: the materialised counts the dashboards read, which units need recounting,
the agencies' escalation settings, and one record per reminder, digest or escalation sent.

Nothing here is the truth about who answered: that is assignments left-join current reports. These
tables are summaries of it (rebuilt from it at any time by `summaries.refresh_cycle`) and a journal of
mail sent.
"""

from __future__ import annotations

from django.db import models

from lastweek.directives.models import Assignment, Cycle, Mode
from lastweek.org.models import Agency, Employee, Unit


class Answer(models.TextChoices):
    NONE = "", "No answer"
    ON_TIME = "on_time", "On time"
    LATE = "late", "Late"


class UnitCycleCount(models.Model):
    """How many assignments of one cycle share one set of status inputs, for one unit.

    `scope` says what the count covers: the unit's own assignments, the unit and everything below it
    (subtree), or a whole agency (unit blank). The inputs are kept rather than a status, because a
    status depends on the time it is asked ("not yet due" becomes "missing" at the deadline); the reader
    classifies them with `status.classify()` at the moment it reads.
    """

    class Scope(models.TextChoices):
        OWN = "own", "The unit's own people"
        SUBTREE = "subtree", "The unit and all units below it"
        AGENCY = "agency", "The whole agency"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    agency = models.ForeignKey(
        Agency, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices)
    answer = models.CharField(max_length=8, choices=Answer.choices, blank=True)
    on_leave = models.BooleanField(default=False)
    auto_reply = models.BooleanField(default=False)
    bounced = models.BooleanField(default=False)
    due_at = models.DateTimeField(null=True)
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["cycle", "scope", "unit"], name="unitcount_cycle_unit_idx"),
            models.Index(fields=["cycle", "scope", "agency"], name="unitcount_cycle_agency_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.scope}/{self.unit_id or self.agency_id}: {self.count}"


class CycleSummary(models.Model):
    """When a cycle's counts were last rebuilt in full and last brought up to date."""

    cycle = models.OneToOneField(Cycle, on_delete=models.CASCADE, related_name="compliance_summary")
    built_at = models.DateTimeField(help_text="Last full rebuild from the assignments.")
    refreshed_at = models.DateTimeField(help_text="Last time the units marked stale were recounted.")

    class Meta:
        verbose_name_plural = "cycle summaries"

    def __str__(self) -> str:
        return f"Summary of cycle {self.cycle_id} (built {self.built_at:%Y-%m-%d %H:%M})"


class StaleUnit(models.Model):
    """A unit whose counts for a cycle changed since they were last counted (an answer arrived)."""

    cycle_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle_id", "unit_id"], name="staleunit_once")]

    def __str__(self) -> str:
        return f"unit {self.unit_id} in cycle {self.cycle_id}"


class EscalationPolicy(models.Model):
    """Whether an agency escalates a still-missing answer up the reporting line, and how fast.

    Off unless an agency turns it on: with no row, or with `enabled` false, nothing is escalated.
    """

    agency = models.OneToOneField(Agency, on_delete=models.PROTECT, related_name="escalation_policy")
    enabled = models.BooleanField(default=False)
    grace_hours = models.PositiveSmallIntegerField(
        default=48, help_text="Hours after the deadline, and between levels, before the next manager up."
    )
    max_levels = models.PositiveSmallIntegerField(
        default=1, help_text="Managers up the line at most: 1 is the direct manager only."
    )
    reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        state = f"every {self.grace_hours} h, up to {self.max_levels}" if self.enabled else "off"
        return f"Escalation in {self.agency.code}: {state}"


class Notice(models.Model):
    """One reminder, digest or escalation: claimed before it is sent, so a rerun never sends it twice.

    States as for request mail: claimed (not handed over yet; a rerun sends it), handed (the final dot
    is about to go out; never sent again), sent (the server answered 250), failed (refused).
    """

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder before the deadline"
        DIGEST = "digest", "Manager's digest after the deadline"
        ESCALATION = "escalation", "Escalation of a missing answer"

    class State(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        HANDED = "handed", "Handed to the mail server"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recipient = models.ForeignKey(
        Employee, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    level = models.PositiveSmallIntegerField(default=0, help_text="Escalations: managers up the line.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.CLAIMED)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # One of each per cycle: per assignment (reminder, escalation level) or per manager (digest).
            models.UniqueConstraint(
                fields=["kind", "cycle", "assignment", "level"],
                condition=models.Q(assignment__isnull=False),
                name="notice_once_per_assignment",
            ),
            models.UniqueConstraint(
                fields=["kind", "cycle", "recipient"],
                condition=models.Q(assignment__isnull=True),
                name="notice_once_per_manager",
            ),
        ]
        indexes = [models.Index(fields=["cycle", "kind", "state"], name="notice_cycle_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for cycle {self.cycle_id} to {self.recipient_id} ({self.state})"

"""Every message the email channel received, kept exactly as it arrived (raw first), with what became of it.

A message is stored before anything reads it: the SMTP server answers 250 only once its row is
committed, and an import writes the row in the same transaction as its outcome. Parsing and
attribution can be run again over the stored bytes at any time (`lastweek reprocess`).

States: received (stored, not yet processed) → parsed → attributed (to an assignment: an answer became
a report, an automatic reply or bounce marked the assignment) | duplicate (the same message, already
recorded) | refused (attributed, but reports.submit() took nothing: the cycle is closed, the agency
paused the request, the answer was empty) | quarantined (not attributable, unreadable or possibly
spoofed; kept for a person to look at). `reason` is a stable code and `detail` says it in words.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from lastweek.directives.models import Assignment
from lastweek.reports.models import Report


class InboundMessage(models.Model):
    class Source(models.TextChoices):
        SMTP = "smtp", "SMTP server"
        IMPORT = "import", "Mailbox import"

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PARSED = "parsed", "Parsed"
        ATTRIBUTED = "attributed", "Attributed"
        DUPLICATE = "duplicate", "Duplicate"
        REFUSED = "refused", "Refused by submit"
        QUARANTINED = "quarantined", "Quarantined"

    raw = models.BinaryField(help_text="The message exactly as received, headers and body.")
    sha256 = models.CharField(max_length=64, help_text="Of the raw bytes.")
    message_id = models.CharField(
        max_length=255, blank=True, help_text="The Message-ID header (hashed when longer than 255)."
    )
    size = models.PositiveIntegerField()
    envelope_from = models.TextField(blank=True, help_text="MAIL FROM; empty for bounces.")
    envelope_to = models.TextField(blank=True, help_text="RCPT TO addresses, one a line.")
    source = models.CharField(max_length=8, choices=Source.choices)
    source_ref = models.CharField(
        max_length=500, blank=True, help_text="Where an import found it (mailbox and key)."
    )
    received_at = models.DateTimeField(help_text="Arrival: SMTP time, or for imports the Date header.")
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    reason = models.CharField(max_length=32, blank=True, help_text="A stable code for the state.")
    detail = models.CharField(max_length=500, blank=True, help_text="The reason, in words.")
    kind = models.CharField(max_length=12, blank=True, help_text="answer, auto_reply, bounce, unreadable")
    attributed_by = models.CharField(max_length=12, blank=True, help_text="token, in_reply_to, from, …")
    # No database constraints: these rows are written in bulk by imports (see directives.Assignment).
    assignment = models.ForeignKey(
        Assignment,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    report = models.ForeignKey(
        Report,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Idempotency: the same bytes under the same Message-ID are stored once, however often
            # a client retries or an import is run again.
            models.UniqueConstraint(fields=["sha256", "message_id"], name="inbound_once")
        ]
        indexes = [
            # What `reprocess` and the SMTP backlog read: every state but the final one of nearly all
            # mail, so the index stays small and an import of millions hardly writes to it.
            models.Index(
                fields=["state", "id"], name="inbound_pending_idx", condition=~Q(state="attributed")
            ),
        ]

    def __str__(self) -> str:
        return f"Inbound {self.pk} ({self.state})"

    @property
    def recipients(self) -> list[str]:
        return [line for line in self.envelope_to.splitlines() if line]

"""A standing request to a population (Directive), its weekly instances (Cycle), the participation policy
agencies and units set for it (Policy, Exemption, ContentSetting), and the frozen list of who was asked
(Assignment) with the request mail sent to each (RequestMail).

Policies, content settings and exemptions are never edited in place: a change is a new row, so every
version stays readable. Assignments are written when a cycle opens and change only through a recorded
mid-cycle policy change (AssignmentChange).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from lastweek.org.models import Agency, Employee, Unit


class Mode(models.TextChoices):
    REQUIRED = "required", "Required"
    VOLUNTARY = "voluntary", "Voluntary"
    PAUSED = "paused", "Paused"
    EXEMPT = "exempt", "Exempt"


# The modes that are asked at all: request mail goes to these, never to paused or exempt people.
ASKED_MODES = (Mode.REQUIRED, Mode.VOLUNTARY)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Directive(models.Model):
    """A standing weekly request. Its owner is an office, not a person: whoever holds a directive-owner
    role grant over `owner_agency` (or the whole organization when blank) owns it, so the directive keeps
    running when a person leaves."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        RETIRED = "retired", "Retired"

    class DeadlineBasis(models.TextChoices):
        DIRECTIVE = "directive", "One deadline in the directive's time zone"
        EMPLOYEE = "employee", "The deadline time in each employee's own time zone"

    title = models.CharField(max_length=200)
    question = models.TextField(default="What did you get done last week? Reply with up to 5 bullets.")
    instructions = models.TextField(
        blank=True,
        default="Do not include classified or sensitive information, links or attachments.",
    )
    sender_name = models.CharField(
        max_length=120, help_text="The office named as the sender, e.g. 'Office of Personnel Management'."
    )
    whole_organization = models.BooleanField(
        default=True, help_text="Ask everyone; otherwise only the agencies and units listed."
    )
    audience_agencies = models.ManyToManyField(Agency, blank=True, related_name="+")
    audience_units = models.ManyToManyField(Unit, blank=True, related_name="+")
    opens_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.FRIDAY)
    opens_time = models.TimeField(default=dt.time(9, 0))
    deadline_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    deadline_time = models.TimeField(default=dt.time(23, 59))
    time_zone = models.CharField(max_length=64, default="America/New_York")
    deadline_basis = models.CharField(
        max_length=16, choices=DeadlineBasis.choices, default=DeadlineBasis.DIRECTIVE
    )
    late_days = models.PositiveSmallIntegerField(
        default=4, help_text="Days after the deadline during which late answers are still taken."
    )
    max_bullets = models.PositiveSmallIntegerField(default=5)
    max_bullet_length = models.PositiveSmallIntegerField(default=600)
    default_mode = models.CharField(
        max_length=16,
        choices=[(Mode.REQUIRED, "Required"), (Mode.VOLUNTARY, "Voluntary")],
        default=Mode.REQUIRED,
        help_text="The mode where no agency or unit policy applies.",
    )
    leave_grace_hours = models.PositiveSmallIntegerField(
        default=48, help_text="Someone back from leave has this long after their return to answer."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    owner_agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The directive-owner office: blank for the whole organization.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from zoneinfo import available_timezones

        if self.time_zone not in available_timezones():
            raise ValidationError({"time_zone": f"{self.time_zone!r} is not an IANA time zone name."})


class StockAnswer(models.Model):
    """A sanctioned answer that counts as compliance without content, e.g. "All of my activities are
    sensitive." Every channel recognises it through `reports.stock.match_stock_answer()`."""

    directive = models.ForeignKey(Directive, on_delete=models.CASCADE, related_name="stock_answers")
    text = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["directive", "text"], name="stock_answer_unique")]

    def __str__(self) -> str:
        return self.text


class Cycle(models.Model):
    """One week of a directive: the ISO week whose work is reported, when it opened, its deadline and
    when late answers stop being taken."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    directive = models.ForeignKey(Directive, on_delete=models.PROTECT, related_name="cycles")
    week = models.CharField(max_length=8, help_text="ISO week of the reported work, e.g. 2026-W48.")
    week_start = models.DateField(help_text="Monday of the reported week.")
    opens_at = models.DateTimeField()
    deadline = models.DateTimeField(help_text="After federal holidays are skipped.")
    closes_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.CharField(max_length=150, help_text="A username, or 'schedule'.")
    closed_at = models.DateTimeField(null=True, blank=True)
    assignment_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-week_start", "directive_id"]
        constraints = [models.UniqueConstraint(fields=["directive", "week"], name="cycle_one_per_week")]

    def __str__(self) -> str:
        return f"{self.directive} — {self.week}"


class Policy(models.Model):
    """One decision about one directive for one agency or one unit (and everything below it). A change is a
    new row superseding the previous one; the nearest decision up the unit tree wins."""

    directive = models.ForeignKey(Directive, on_delete=models.PROTECT, related_name="policies")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    effective_from = models.DateTimeField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    applied_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was applied to the open cycles' assignments."
    )

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agency__isnull=False, unit=None) | Q(agency=None, unit__isnull=False),
                name="policy_one_target",
            )
        ]
        indexes = [models.Index(fields=["directive", "effective_from"], name="policy_directive_idx")]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} for {self.target_label}"

    @property
    def target_label(self) -> str:
        return f"agency {self.agency.code}" if self.agency_id else f"unit {self.unit}"


class ContentSetting(models.Model):
    """Whether an agency's report text may leave the agency. The default, with no row, is that it stays
    inside: the directive owner sees compliance figures only. Versioned like policies."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    shares_text = models.BooleanField(default=False)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.agency.code}: {'shared' if self.shares_text else 'stays inside the agency'}"

    @classmethod
    def agencies_sharing_text(cls) -> list[int]:
        """The agencies whose latest content setting shares report text."""
        latest: dict[int, bool] = {}
        for agency_id, shares in cls.objects.order_by("decided_at", "id").values_list(
            "agency_id", "shares_text"
        ):
            latest[agency_id] = shares
        return sorted(agency for agency, shares in latest.items() if shares)


class Exemption(models.Model):
    """One person excused from a directive (or every directive) for a period. Leave is special: it does
    not excuse, it moves the person's deadline to `leave_grace_hours` after their return."""

    class Category(models.TextChoices):
        LEAVE = "leave", "Leave"
        CLASSIFIED = "classified", "Classified duties"
        DETAIL = "detail", "Detail to another organization"
        NEW_HIRE = "new_hire", "New hire"
        OTHER = "other", "Other"

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="exemptions")
    directive = models.ForeignKey(
        Directive, null=True, blank=True, on_delete=models.PROTECT, help_text="Blank: every directive."
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Last day; blank while open-ended.")
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on=None) | Q(ends_on__gte=models.F("starts_on")),
                name="exemption_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} for {self.employee_id} from {self.starts_on}"


class Source(models.TextChoices):
    """What produced an assignment's mode."""

    DIRECTIVE = "directive", "Directive default"
    AGENCY = "agency", "Agency policy"
    UNIT = "unit", "Unit policy"
    EXEMPTION = "exemption", "Individual exemption"


class Assignment(models.Model):
    """One person asked (or deliberately not asked) in one cycle, frozen when the cycle opened.

    Agency, unit and manager are copies of the roster at that moment, without database constraints:
    they are history, and the bulk write at cycle open should not pay a foreign-key check per row.
    """

    # Indexes are few on purpose: each one costs seconds when a cycle of two million rows is written.
    # (cycle, employee) is unique and serves per-cycle reads; (cycle, unit) serves subtree rollups.
    # No database foreign keys either: PostgreSQL checks one by locking the referenced row, which would
    # rewrite all two million employee rows at every cycle open. The rows come from the roster in the
    # same transaction, and PROTECT still stops the ORM deleting a cycle or person that has them.
    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="assignments", db_index=False, db_constraint=False
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="assignments", db_constraint=False
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    manager = models.ForeignKey(
        Employee,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    mode = models.CharField(max_length=16, choices=Mode.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    policy = models.ForeignKey(
        Policy,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    exemption = models.ForeignKey(
        Exemption,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    reason = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="Blank: on leave, return not yet known.")
    on_leave = models.BooleanField(default=False)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="Last mid-cycle policy change.")
    # What the email channel learns besides answers: compliance reads them ("auto-reply only", "bounced").
    auto_reply_at = models.DateTimeField(
        null=True, blank=True, help_text="Last automatic reply (out of office) received in this cycle."
    )
    bounced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the request mail bounced: the address is failing."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle", "employee"], name="assignment_one_per_cycle")]
        indexes = [models.Index(fields=["cycle", "unit"], name="assignment_cycle_unit_idx")]

    def __str__(self) -> str:
        return f"{self.employee_id} in {self.cycle_id}: {self.mode}"


class AssignmentChange(models.Model):
    """A mid-cycle change to an assignment, with the policy or exemption that caused it."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="changes")
    changed_at = models.DateTimeField()
    old_mode = models.CharField(max_length=16, choices=Mode.choices)
    new_mode = models.CharField(max_length=16, choices=Mode.choices)
    old_source = models.CharField(max_length=16, choices=Source.choices)
    new_source = models.CharField(max_length=16, choices=Source.choices)
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.old_mode} → {self.new_mode} at {self.changed_at:%Y-%m-%d %H:%M}"


class RequestMail(models.Model):
    """The request email for one assignment: what was sent, and how far the sending got.

    States: claimed (picked for a batch; not yet handed over, safe to send again), handed (the final
    dot of the SMTP DATA is about to go out, committed first so a restart never sends it twice), sent
    (the server answered 250), failed (the server refused it; `last_error` says why).
    """

    class State(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        HANDED = "handed", "Handed to the mail server"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # No database foreign key (like Assignment's own): checking one locks the assignment row, which
    # rewrites every assignment page a cycle's claims touch. Uniques are constraints, not unique=True,
    # so PostgreSQL builds no extra LIKE index per column for every claim to maintain.
    assignment = models.OneToOneField(
        Assignment, on_delete=models.PROTECT, related_name="request_mail", db_constraint=False
    )
    cycle = models.ForeignKey(
        Cycle, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    message_id = models.CharField(max_length=200)
    verify_code = models.CharField(max_length=16)
    to_address = models.EmailField(max_length=254)
    state = models.CharField(max_length=8, choices=State.choices, default=State.CLAIMED)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="requestmail_message_id_unique"),
            models.UniqueConstraint(fields=["verify_code"], name="requestmail_verify_code_unique"),
        ]
        indexes = [models.Index(fields=["cycle", "state"], name="requestmail_cycle_state_idx")]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.state})"

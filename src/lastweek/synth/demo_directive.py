"""The demo's weekly directive: active, with a stock answer, the policies a few agencies set (paused,
voluntary, exempt, a unit override, with their reasons), some individual exemptions, and an open cycle."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.utils import timezone

from lastweek.directives.actions import due_week as scheduled_week
from lastweek.directives.actions import (
    grant_exemption,
    open_cycle,
    set_content_setting,
    set_policy,
)
from lastweek.directives.models import Cycle, Directive, Exemption, Mode, StockAnswer
from lastweek.directives.schedule import week_label
from lastweek.org.models import Agency, Employee, Unit

DEMO_DIRECTIVE = "Weekly accomplishments"
STOCK_ANSWER = "All of my activities are sensitive."

POLICIES = [
    # (agency rank by size, mode, reason)
    (1, Mode.PAUSED, "The agency head directed staff to pause responses pending a legal review."),
    (2, Mode.VOLUNTARY, "Voluntary while the agency consults its unions on the new process."),
    (3, Mode.EXEMPT, "Exempt: most duties are classified national-security work."),
]
EXEMPTIONS = [
    (Exemption.Category.LEAVE, "Annual leave", 0, 10),
    (Exemption.Category.CLASSIFIED, "Assigned to classified duties", -60, None),
    (Exemption.Category.NEW_HIRE, "Started this month; onboarding", -7, 30),
    (Exemption.Category.DETAIL, "Detailed to another agency for 120 days", -30, 90),
]


def build_demo_directive(say=print) -> Cycle:
    """Create the demo directive and its open cycle once; later runs return the same cycle."""
    directive = Directive.objects.filter(title=DEMO_DIRECTIVE).first()
    if directive is None:
        directive = _directive()
        say(f"Created the directive “{directive}” with the policies of {len(POLICIES) + 1} decisions.")
    cycle = directive.cycles.order_by("-week_start").first()
    if cycle is None:
        now = timezone.now()
        cycle = open_cycle(directive, scheduled_week(directive, now) or week_label(now.date()), now=now)
        say(f"Opened {cycle.week}: {cycle.assignment_count:,} people asked or excused.")
    return cycle


def _directive() -> Directive:
    directive = Directive.objects.create(
        title=DEMO_DIRECTIVE,
        sender_name="Office of Personnel Management",
        status=Directive.Status.ACTIVE,
    )
    StockAnswer.objects.create(directive=directive, text=STOCK_ANSWER)
    agencies = list(Agency.objects.annotate(n=Count("employees")).order_by("-n", "code"))
    for rank, mode, reason in POLICIES:
        if rank < len(agencies):
            set_policy(directive, agency=agencies[rank], mode=mode, reason=reason, actor=None)
    override = Unit.objects.filter(agency=agencies[1], depth=1).order_by("id").first()
    if override is not None:
        set_policy(
            directive,
            unit=override,
            mode=Mode.VOLUNTARY,
            reason="This office kept answering voluntarily for its public dashboard.",
            actor=None,
        )
    set_content_setting(
        agencies[0], shares_text=False, reason="Report text stays inside the agency.", actor=None
    )
    _exemptions(agencies[0])
    return directive


def _exemptions(agency: Agency) -> None:
    today = timezone.localdate()
    people = Employee.objects.filter(agency=agency, status=Employee.Status.ACTIVE, user=None)
    for person, (category, reason, start, length) in zip(
        people.order_by("-employee_number")[: len(EXEMPTIONS)], EXEMPTIONS, strict=False
    ):
        grant_exemption(
            person,
            category=category,
            starts_on=today + dt.timedelta(days=start),
            ends_on=today + dt.timedelta(days=length) if length is not None else None,
            reason=reason,
            actor=None,
        )

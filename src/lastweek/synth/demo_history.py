"""A few weeks of history for the demo's dashboard: earlier cycles of the weekly directive with
synthetic answers (most on time, some late, some missing, a few automatic replies and bounces), closed;
the open week is left to the people answering it. Deterministic (one Random per week) and idempotent: a
week that already has answers is left alone, and each answer is submitted with a source id."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from lastweek.compliance.summaries import refresh_cycle
from lastweek.directives.actions import close_cycle, open_cycle
from lastweek.directives.models import Assignment, Cycle, Directive, Mode
from lastweek.directives.schedule import week_label
from lastweek.reports import submit
from lastweek.reports.models import Channel, Report

HISTORY_WEEKS = 4
# Share answering on time in each earlier week, oldest first: the habit takes hold.
ON_TIME = (0.58, 0.66, 0.72, 0.78)
LATE = 0.07
VOLUNTARY = 0.35
AUTO_REPLY, BOUNCED = 0.03, 0.01
BULLETS = (
    "Closed {n} cases from the backlog",
    "Briefed the division chief on the {topic} review",
    "Drafted the {topic} guidance for field offices",
    "Answered {n} public inquiries",
    "Trained {n} new staff on the {topic} system",
    "Reconciled {n} records with the finance office",
    "Met the {topic} working group; next steps agreed",
)
TOPICS = ("records", "claims", "grants", "inspection", "procurement", "hiring", "IT modernization")


def demo_history(directive: Directive, seed: int = 42, weeks: int = HISTORY_WEEKS, say=print) -> None:
    """Earlier weeks with answers, and some answers in the open week; then the dashboard's counts."""
    current = directive.cycles.order_by("-week_start").first()
    if current is None:
        return
    for back in range(weeks, 0, -1):
        week = week_label(current.week_start - dt.timedelta(days=7 * back))
        cycle = directive.cycles.filter(week=week).first() or open_cycle(directive, week)
        if not Report.objects.filter(cycle=cycle).exists():
            answered = _answer(cycle, random.Random(f"{seed}-{week}"), ON_TIME[(weeks - back) % len(ON_TIME)])
            say(f"Week {week}: {answered:,} synthetic answers.")
        if cycle.state == Cycle.State.OPEN:
            close_cycle(cycle)
        refresh_cycle(cycle)
    refresh_cycle(current)


def _answer(cycle: Cycle, rng: random.Random, on_time: float, late: float = LATE) -> int:
    """Submit synthetic answers for a share `on_time` of the required people (and `late` more after the
    deadline) and some voluntary ones; mark some of the others with an automatic reply or a bounce."""
    now = timezone.now()
    assignments = Assignment.objects.filter(cycle=cycle, mode__in=(Mode.REQUIRED, Mode.VOLUNTARY))
    answered = 0
    for assignment in (
        assignments.select_related("cycle__directive").order_by("id").iterator(chunk_size=2_000)
    ):
        draw = rng.random()
        due = assignment.due_at or cycle.deadline
        if assignment.mode == Mode.VOLUNTARY:
            when = due - dt.timedelta(hours=rng.randint(1, 60)) if draw < VOLUNTARY else None
        elif draw < on_time:
            when = due - dt.timedelta(hours=rng.randint(1, 60))
        elif draw < on_time + late:
            when = due + dt.timedelta(hours=rng.randint(2, 70))
        else:
            when = None
            _mark_no_answer(assignment, rng, cycle)
        if when is None:
            continue
        when = min(when, now)  # last week's late answers cannot come from the future
        bullets = [_bullet(rng) for _ in range(rng.randint(1, 4))]
        source = f"demo-{cycle.week}-{assignment.pk}"
        submit(assignment, bullets, channel=Channel.IMPORT, received_at=when, source_id=source)
        answered += 1
    return answered


def _mark_no_answer(assignment: Assignment, rng: random.Random, cycle: Cycle) -> None:
    draw = rng.random()
    if draw < BOUNCED:
        Assignment.objects.filter(pk=assignment.pk).update(bounced_at=cycle.opens_at)
    elif draw < BOUNCED + AUTO_REPLY:
        Assignment.objects.filter(pk=assignment.pk).update(auto_reply_at=cycle.opens_at)


def _bullet(rng: random.Random) -> str:
    return rng.choice(BULLETS).format(n=rng.randint(2, 60), topic=rng.choice(TOPICS))

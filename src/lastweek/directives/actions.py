"""Everything that changes directives, cycles, policies and exemptions. Each change is audited."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from lastweek import audit
from lastweek.directives.freeze import freeze_assignments, reapply, redecide
from lastweek.directives.models import (
    Assignment,
    ContentSetting,
    Cycle,
    Directive,
    Exemption,
    Mode,
    Policy,
)
from lastweek.directives.participation import PolicyIndex, decide
from lastweek.directives.schedule import cycle_times, parse_week, week_label
from lastweek.org.models import Agency, Employee, Unit

log = logging.getLogger(__name__)
User = AbstractBaseUser | AnonymousUser | None


class DirectiveError(Exception):
    """A request that cannot be carried out, with a message saying why and what to do."""


def _actor_name(actor: User) -> str:
    user = audit.acting_user(actor)
    return user.get_username() if user else "schedule"


# Cycles


def open_cycle(
    directive: Directive, week: str, *, actor: User = None, now: dt.datetime | None = None
) -> Cycle:
    """Open the cycle for the ISO `week` and freeze its assignments (who is asked, under which policy)."""
    if directive.status != Directive.Status.ACTIVE:
        raise DirectiveError(
            f"Directive {directive.pk} is {directive.status}; only an active directive opens cycles."
        )
    existing = Cycle.objects.filter(directive=directive, week=week).first()
    if existing:
        raise DirectiveError(f"Week {week} of directive {directive.pk} is already cycle {existing.pk}.")
    times = _times(directive, week)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            cycle = Cycle.objects.create(
                directive=directive,
                week=week,
                week_start=times.week_start,
                opens_at=times.opens_at,
                deadline=times.deadline,
                closes_at=times.closes_at,
                opened_by=_actor_name(actor),
            )
            # Policies are read as of the moment the cycle row was written.
            cycle.opened_at = now
            cycle.assignment_count = freeze_assignments(cycle)
            cycle.save(update_fields=["opened_at", "assignment_count"])
            audit.record(actor, "cycle.open", target=cycle, detail={"assignments": cycle.assignment_count})
    except IntegrityError as exc:
        raise DirectiveError(f"Week {week} of directive {directive.pk} was opened meanwhile.") from exc
    log.info("Opened cycle %s (%s) with %d assignments", cycle.pk, week, cycle.assignment_count)
    return cycle


def _times(directive: Directive, week: str):
    return cycle_times(
        week_start=parse_week(week),
        opens_weekday=directive.opens_weekday,
        opens_time=directive.opens_time,
        deadline_weekday=directive.deadline_weekday,
        deadline_time=directive.deadline_time,
        time_zone=directive.time_zone,
        late_days=directive.late_days,
    )


def close_cycle(cycle: Cycle, *, actor: User = None, now: dt.datetime | None = None) -> Cycle:
    """Stop taking answers for the cycle."""
    if cycle.state == Cycle.State.CLOSED:
        raise DirectiveError(f"Cycle {cycle.pk} is already closed.")
    cycle.state = Cycle.State.CLOSED
    cycle.closed_at = now or timezone.now()
    with transaction.atomic():
        cycle.save(update_fields=["state", "closed_at"])
        audit.record(actor, "cycle.close", target=cycle)
    return cycle


@dataclass
class ScheduleRun:
    opened: list[Cycle] = field(default_factory=list)
    closed: list[Cycle] = field(default_factory=list)
    policies_applied: list[Policy] = field(default_factory=list)


def run_schedule(now: dt.datetime | None = None) -> ScheduleRun:
    """Open the cycles whose time has come, close those past their late window and apply policies that
    became effective. Safe to run as often as wanted: each step checks before acting."""
    now = now or timezone.now()
    run = ScheduleRun()
    for directive in Directive.objects.filter(status=Directive.Status.ACTIVE):
        week = due_week(directive, now)
        if week and not Cycle.objects.filter(directive=directive, week=week).exists():
            try:
                run.opened.append(open_cycle(directive, week, now=now))
            except DirectiveError as exc:  # opened by another worker meanwhile
                log.info("Not opening: %s", exc)
    for cycle in Cycle.objects.filter(state=Cycle.State.OPEN, closes_at__lte=now):
        run.closed.append(close_cycle(cycle, now=now))
    for policy in Policy.objects.filter(applied_at=None, effective_from__lte=now).order_by("effective_from"):
        apply_policy(policy, now)
        run.policies_applied.append(policy)
    return run


def due_week(directive: Directive, now: dt.datetime) -> str | None:
    """The week whose cycle should open at `now`: its opening has passed and its deadline has not (a
    directive activated after a deadline starts with the next week rather than with everyone late)."""
    for days_back in (0, 7):
        week = week_label((now - dt.timedelta(days=days_back)).date())
        times = _times(directive, week)
        if times.opens_at <= now < times.deadline:
            return week
    return None


# Policies


@dataclass
class PolicyPreview:
    employees: int
    changes: list[tuple[str, str, int]]
    units: list[tuple[Unit, int]]
    overridden_below: list[Policy]


def _check_target(directive: Directive, agency: Agency | None, unit: Unit | None) -> None:
    if (agency is None) == (unit is None):
        raise DirectiveError("A policy applies to one agency or one unit: give exactly one of them.")


def _units_under(agency: Agency | None, unit: Unit | None):
    units = Unit.objects.filter(agency=agency) if agency else Unit.objects.filter(path__startswith=unit.path)
    return units.values_list("id", "agency_id", "path")


def preview_policy(
    directive: Directive, *, agency: Agency | None = None, unit: Unit | None = None, mode: str
) -> PolicyPreview:
    """Who a decision would affect, without saving it: headcounts of people whose mode would change."""
    _check_target(directive, agency, unit)
    now = timezone.now()
    current = PolicyIndex.in_force(directive, now)
    proposed = current.with_decision(Policy(directive=directive, agency=agency, unit=unit, mode=mode))
    units = list(_units_under(agency, unit))
    headcount = dict(
        Employee.objects.filter(unit_id__in=[u for u, _, _ in units])
        .exclude(status=Employee.Status.SEPARATED)
        .values_list("unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    changes: Counter[tuple[str, str]] = Counter()
    affected_units = []
    for unit_id, agency_id, path in units:
        old = decide(directive, current.nearest(agency_id, path)).mode
        new = decide(directive, proposed.nearest(agency_id, path)).mode
        if old != new and headcount.get(unit_id):
            changes[old, new] += headcount[unit_id]
            affected_units.append((unit_id, headcount[unit_id]))
    affected_units.sort(key=lambda pair: -pair[1])
    shown = Unit.objects.in_bulk([u for u, _ in affected_units[:50]])
    target_id = unit.pk if unit else None
    return PolicyPreview(
        employees=sum(changes.values()),
        changes=[(old, new, n) for (old, new), n in sorted(changes.items())],
        units=[(shown[u], n) for u, n in affected_units[:50]],
        overridden_below=[
            p for u, p in current.by_unit.items() if u != target_id and u in {x for x, _, _ in units}
        ],
    )


def set_policy(
    directive: Directive,
    *,
    agency: Agency | None = None,
    unit: Unit | None = None,
    mode: str,
    reason: str,
    actor: User,
    effective_from: dt.datetime | None = None,
) -> Policy:
    """Record a decision for an agency or unit (a new version), and apply it to the open cycle from now
    (or from `effective_from`, by the schedule)."""
    _check_target(directive, agency, unit)
    if mode not in Mode.values:
        raise DirectiveError(f"{mode!r} is not a mode; use one of {', '.join(Mode.values)}.")
    if not reason.strip():
        raise DirectiveError("Give the reason for the decision: it is shown to everyone it affects.")
    now = timezone.now()
    effective_from = effective_from or now
    target = Q(unit=unit) if unit else Q(agency=agency, unit=None)
    with transaction.atomic():
        previous = Policy.objects.filter(target, directive=directive, superseded_by=None).first()
        policy = Policy.objects.create(
            directive=directive,
            agency=agency,
            unit=unit,
            mode=mode,
            reason=reason.strip(),
            decided_by=audit.acting_user(actor),
            effective_from=effective_from,
            supersedes=previous,
        )
        audit.record(
            actor,
            "policy.set",
            target=policy,
            scope=f"agency:{agency.code}" if agency else f"unit:{unit.pk}",
            detail={
                "directive": directive.pk,
                "mode": mode,
                "previous_mode": previous.mode if previous else None,
                "effective_from": effective_from.isoformat(),
            },
        )
        if effective_from <= now:
            apply_policy(policy, now)
    return policy


def apply_policy(policy: Policy, at: dt.datetime) -> int:
    """Apply a decision to its directive's open cycles from `at`; each changed assignment is recorded."""
    changed = 0
    with transaction.atomic():
        for cycle in Cycle.objects.filter(directive=policy.directive, state=Cycle.State.OPEN):
            changed += reapply(cycle, _units_under(policy.agency, policy.unit), at, policy)
        policy.applied_at = at
        policy.save(update_fields=["applied_at"])
        audit.record(None, "policy.apply", target=policy, detail={"assignments_changed": changed})
    return changed


def current_policies(directive: Directive, agency: Agency) -> list[Policy]:
    """The decisions in force now for the agency and its units, agency first, then by unit path."""
    index = PolicyIndex.in_force(directive, timezone.now())
    in_agency = [p for p in index.by_unit.values() if p.unit.agency_id == agency.pk]
    agency_policy = [index.by_agency[agency.pk]] if agency.pk in index.by_agency else []
    return agency_policy + sorted(in_agency, key=lambda p: p.unit.path)


# Content setting


def set_content_setting(agency: Agency, *, shares_text: bool, reason: str, actor: User) -> ContentSetting:
    """Whether the agency's report text may be read outside it (by the directive owner)."""
    if not reason.strip():
        raise DirectiveError("Give the reason for the content setting.")
    with transaction.atomic():
        setting = ContentSetting.objects.create(
            agency=agency,
            shares_text=shares_text,
            reason=reason.strip(),
            decided_by=audit.acting_user(actor),
        )
        audit.record(
            actor,
            "content.set",
            target=setting,
            scope=f"agency:{agency.code}",
            detail={"shares": shares_text},
        )
    return setting


# Exemptions


def grant_exemption(
    employee: Employee,
    *,
    category: str,
    starts_on: dt.date,
    reason: str,
    actor: User,
    ends_on: dt.date | None = None,
    directive: Directive | None = None,
) -> Exemption:
    """Excuse one person (or, for leave, move their deadline past their return); open cycles follow."""
    if not reason.strip():
        raise DirectiveError("Give the reason for the exemption.")
    if ends_on is not None and ends_on < starts_on:
        raise DirectiveError(f"The exemption ends ({ends_on}) before it starts ({starts_on}).")
    with transaction.atomic():
        exemption = Exemption.objects.create(
            employee=employee,
            directive=directive,
            category=category,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason.strip(),
            decided_by=audit.acting_user(actor),
        )
        audit.record(actor, "exemption.grant", target=exemption, detail={"category": category})
        _redecide_person(employee, timezone.now(), f"Exemption: {exemption.reason}")
    return exemption


def revoke_exemption(exemption: Exemption, *, actor: User) -> Exemption:
    now = timezone.now()
    with transaction.atomic():
        exemption.revoked_at = now
        exemption.save(update_fields=["revoked_at"])
        audit.record(actor, "exemption.revoke", target=exemption)
        _redecide_person(exemption.employee, now, "Exemption revoked")
    return exemption


def _redecide_person(employee: Employee, at: dt.datetime, reason: str) -> None:
    open_assignments = Assignment.objects.filter(employee=employee, cycle__state=Cycle.State.OPEN)
    for assignment in open_assignments.select_related("cycle__directive", "employee"):
        redecide(assignment, at, None, reason)

"""The one place that decides whether a person is asked: required, voluntary, paused or exempt.

`decide()` is the rule; everything else gathers its inputs. `participation()` answers for one person,
and `unit_decisions()` answers for everyone in a unit who has no individual exemption (the bulk path at
cycle open and on a mid-cycle policy change), by calling the same `decide()` once per unit.

The rule, in order:
1. The nearest policy in force up the unit tree wins (unit, then its parents, then the agency); with
   none, the directive's default mode.
2. Paused stays paused: an agency's decision not to take part covers everyone in it.
3. Otherwise an individual exemption (classified duties, detail, new hire, other) makes the person exempt.
4. Leave does not excuse: it moves the person's deadline to `leave_grace_hours` after their return
   (unknown while the leave is open-ended or the roster only says "on leave").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q

from lastweek.directives.models import Cycle, Directive, Exemption, Mode, Policy, Source
from lastweek.directives.schedule import local_deadline, return_deadline
from lastweek.org.models import Employee

ROSTER_LEAVE_REASON = "On leave according to the roster; due after their return."


@dataclass(frozen=True)
class Decision:
    mode: str
    source: str
    policy_id: int | None = None
    exemption_id: int | None = None
    reason: str = ""
    on_leave: bool = False
    # Last day of leave when known; None with on_leave means the return date is not known yet.
    leave_until: dt.date | None = None


class PolicyIndex:
    """The decisions in force for one directive at one moment, by target."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.by_agency: dict[int, Policy] = {}
        self.by_unit: dict[int, Policy] = {}
        # Latest decision per target wins: iterate oldest first and let later ones overwrite.
        for policy in sorted(policies, key=lambda p: (p.decided_at, p.pk or 0)):
            if policy.unit_id:
                self.by_unit[policy.unit_id] = policy
            else:
                self.by_agency[policy.agency_id] = policy

    @classmethod
    def in_force(cls, directive: Directive, at: dt.datetime) -> PolicyIndex:
        return cls(Policy.objects.filter(directive=directive, effective_from__lte=at).select_related("unit"))

    def with_decision(self, policy: Policy) -> PolicyIndex:
        """This index as if `policy` were decided now (for previews)."""
        index = PolicyIndex([])
        index.by_agency, index.by_unit = dict(self.by_agency), dict(self.by_unit)
        target = index.by_unit if policy.unit_id else index.by_agency
        target[policy.unit_id or policy.agency_id] = policy
        return index

    def nearest(self, agency_id: int, unit_path: str) -> Policy | None:
        """The decision for the deepest unit on `unit_path` ("/3/17/42/") that has one, else the agency's."""
        for unit_id in reversed(unit_path.strip("/").split("/")):
            policy = self.by_unit.get(int(unit_id)) if unit_id else None
            if policy is not None:
                return policy
        return self.by_agency.get(agency_id)


def decide(
    directive: Directive,
    policy: Policy | None,
    exemptions: Sequence[Exemption] = (),
    *,
    roster_on_leave=False,
) -> Decision:
    """The participation rule (see the module docstring)."""
    if policy is None:
        decision = Decision(mode=directive.default_mode, source=Source.DIRECTIVE)
    else:
        source = Source.UNIT if policy.unit_id else Source.AGENCY
        decision = Decision(mode=policy.mode, source=source, policy_id=policy.pk)
    if decision.mode == Mode.PAUSED:
        return decision
    excusing = [e for e in exemptions if e.category != Exemption.Category.LEAVE]
    if excusing and decision.mode != Mode.EXEMPT:
        exemption = max(excusing, key=lambda e: (e.starts_on, e.pk))
        return Decision(
            mode=Mode.EXEMPT, source=Source.EXEMPTION, exemption_id=exemption.pk, reason=exemption.reason
        )
    leaves = [e for e in exemptions if e.category == Exemption.Category.LEAVE]
    if leaves:
        open_ended = any(e.ends_on is None for e in leaves)
        last = None if open_ended else max(e.ends_on for e in leaves)
        latest = max(leaves, key=lambda e: (e.starts_on, e.pk))
        return Decision(
            **{**decision.__dict__, "on_leave": True, "leave_until": last, "exemption_id": latest.pk}
        )
    if roster_on_leave:
        return Decision(**{**decision.__dict__, "on_leave": True, "reason": ROSTER_LEAVE_REASON})
    return decision


def due_at(directive: Directive, cycle: Cycle, decision: Decision, time_zone: str) -> dt.datetime | None:
    """The person's own deadline: the cycle's (or its clock time in their zone), pushed past leave."""
    due = cycle.deadline
    if directive.deadline_basis == Directive.DeadlineBasis.EMPLOYEE:
        due = local_deadline(cycle.deadline, directive.time_zone, time_zone)
    if not decision.on_leave:
        return due
    if decision.leave_until is None:
        return None
    return max(due, return_deadline(decision.leave_until, time_zone, directive.leave_grace_hours))


def exemptions_for(cycle: Cycle, at: dt.datetime) -> Q:
    """Exemptions that touch this cycle: for its directive or all, in force at `at`, overlapping the days
    from the start of the reported week to the deadline."""
    last_day = cycle.deadline.date()
    return (
        (Q(directive=None) | Q(directive_id=cycle.directive_id))
        & (Q(revoked_at=None) | Q(revoked_at__gt=at))
        & Q(starts_on__lte=last_day)
        & (Q(ends_on=None) | Q(ends_on__gte=cycle.week_start))
    )


def participation(employee: Employee, cycle: Cycle, *, at: dt.datetime | None = None) -> Decision:
    """Whether and how `employee` is asked in `cycle`, by the policies and exemptions in force at `at`
    (default: when the cycle opened)."""
    at = at or cycle.opened_at
    directive = cycle.directive
    policy = PolicyIndex.in_force(directive, at).nearest(employee.agency_id, employee.unit.path)
    exemptions = list(Exemption.objects.filter(exemptions_for(cycle, at), employee=employee))
    return decide(directive, policy, exemptions, roster_on_leave=employee.status == Employee.Status.ON_LEAVE)


def unit_decisions(
    directive: Directive, index: PolicyIndex, units: Iterable[tuple[int, int, str]]
) -> dict[tuple[int, bool], Decision]:
    """For each (unit id, agency id, path): the decision for its people without an individual exemption,
    keyed by (unit id, on leave in the roster)."""
    decisions = {}
    # Units share few distinct policies: decide once per (policy, leave) and reuse the result.
    decided: dict[tuple[int | None, bool], Decision] = {}
    for unit_id, agency_id, path in units:
        policy = index.nearest(agency_id, path)
        for on_leave in (False, True):
            key = (policy.pk if policy else None, on_leave)
            if key not in decided:
                decided[key] = decide(directive, policy, roster_on_leave=on_leave)
            decisions[unit_id, on_leave] = decided[key]
    return decisions

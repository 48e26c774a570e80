"""What the dashboard pages show, assembled from compliance's rollups: the filters a request asks for,
table rows with the policy decision beside each figure, and the trend series for the chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils import timezone

from lastweek.compliance.rollup import trend
from lastweek.compliance.status import Counts, Status
from lastweek.directives.models import Cycle, Directive, Policy
from lastweek.directives.participation import PolicyIndex

TREND_WEEKS = 8


@dataclass
class Filters:
    directives: list[Directive]
    directive: Directive | None
    cycles: list[Cycle]
    cycle: Cycle | None
    status: str
    now: dt.datetime

    @property
    def status_label(self) -> str:
        return Status(self.status).label if self.status else ""

    def query(self, **extra: str) -> str:
        """The filters as a query string, for links that keep them."""
        values = {
            "directive": self.directive.pk if self.directive else "",
            "week": self.cycle.week if self.cycle else "",
        }
        if self.status:
            values["status"] = self.status
        return urlencode({**values, **extra})


def filters(request: HttpRequest) -> Filters:
    """Directive (default: the latest active one with a cycle), week (default: its latest whose
    deadline passed) and status."""
    directives = list(Directive.objects.filter(cycles__isnull=False).distinct().order_by("-id"))
    asked = request.GET.get("directive", "")
    directive = next((d for d in directives if asked.isdigit() and d.pk == int(asked)), None)
    if directive is None and directives:
        active = [d for d in directives if d.status == Directive.Status.ACTIVE]
        directive = (active or directives)[0]
    cycles = list(Cycle.objects.filter(directive=directive).order_by("-week_start")) if directive else []
    week = request.GET.get("week", "")
    # By default the latest week whose deadline passed, the one with rates to show; else the open one.
    passed = [c for c in cycles if c.deadline <= timezone.now()]
    default = passed[0] if passed else (cycles[0] if cycles else None)
    cycle = next((c for c in cycles if c.week == week), default)
    status = request.GET.get("status", "")
    return Filters(
        directives, directive, cycles, cycle, status if status in Status.values else "", timezone.now()
    )


def trend_cycles(f: Filters) -> list[Cycle]:
    """The chosen week and up to TREND_WEEKS - 1 before it, oldest first (from the cycles loaded)."""
    if f.cycle is None:
        return []
    earlier = [cycle for cycle in f.cycles if cycle.week_start <= f.cycle.week_start]
    return list(reversed(earlier[:TREND_WEEKS]))


@dataclass
class Row:
    """One line of a rollup table: a unit or agency, its counts, and the decision in force for it."""

    target: object
    counts: Counts
    policy: Policy | None
    url: str = ""

    @property
    def rate(self) -> float | None:
        return self.counts.compliance_rate


def policy_index(f: Filters) -> PolicyIndex:
    """The decisions in force for the chosen week's directive: as they stood when the cycle opened,
    and any changed since (the newest version of each target wins)."""
    at = max(f.now, f.cycle.opened_at) if f.cycle else f.now
    return PolicyIndex.in_force(f.directive, at) if f.directive else PolicyIndex([])


def series(cycles: list[Cycle], totals: dict, target: int | None) -> dict:
    """The chart's data: per week, the compliance and on-time rates in percent (None while not due)."""
    points = trend(cycles, totals, target)

    def percent(value: float | None) -> float | None:
        return round(100 * value, 1) if value is not None else None

    return {
        "labels": [cycle.week for cycle, _ in points],
        "rate": [percent(counts.compliance_rate) for _, counts in points],
        "on_time": [percent(counts.on_time_rate) for _, counts in points],
        "rows": [
            {
                "week": cycle.week,
                "due": counts.due,
                "answered": counts.answered_due,
                "rate": percent(counts.compliance_rate),
                "on_time": percent(counts.on_time_rate),
            }
            for cycle, counts in points
        ],
    }


def status_counts(counts: Counts) -> list[tuple[Status, int]]:
    return [(status, counts.by_status[status]) for status in Status]

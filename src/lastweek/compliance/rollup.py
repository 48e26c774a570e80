"""Rollups: counts by status and the rates for a unit (with everything below it), an agency or the
whole directive, per cycle and over weeks. Each is one indexed read of the materialised counts
(summaries.py), classified at the moment of reading by `status.Counts`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.utils import timezone

from lastweek.compliance.models import UnitCycleCount
from lastweek.compliance.status import Counts
from lastweek.compliance.summaries import DIMENSIONS, ensure_current
from lastweek.directives.models import Cycle, Directive

_VALUES = ("cycle_id", "agency_id", "unit_id", *DIMENSIONS, "count")


def _sum(rows: Iterable[tuple], key_index: int, now: dt.datetime) -> dict[tuple[int, int], Counts]:
    totals: dict[tuple[int, int], Counts] = defaultdict(Counts)
    for cycle_id, agency_id, unit_id, mode, answer, leave, auto_reply, bounced, due_at, count in rows:
        target = (agency_id, unit_id)[key_index]
        totals[(cycle_id, target)].add(
            mode=mode,
            answer=answer,
            on_leave=leave,
            auto_reply=auto_reply,
            bounced=bounced,
            due_at=due_at,
            now=now,
            count=count,
        )
    return totals


def unit_rollups(
    cycles: Sequence[Cycle], unit_ids: Iterable[int], *, now: dt.datetime | None = None, ensure: bool = True
) -> dict[tuple[int, int], Counts]:
    """{(cycle id, unit id): Counts} for each unit and everything below it. `ensure` false skips
    `ensure_current` (for a caller that has just run it for these cycles)."""
    if ensure:
        ensure_current(cycles, now=now)
    rows = UnitCycleCount.objects.filter(
        cycle_id__in=[cycle.pk for cycle in cycles],
        scope=UnitCycleCount.Scope.SUBTREE,
        unit_id__in=sorted(set(unit_ids)),
    ).values_list(*_VALUES)
    return _sum(rows, 1, now or timezone.now())


def agency_rollups(
    cycles: Sequence[Cycle],
    agency_ids: Iterable[int] | None = None,
    *,
    now: dt.datetime | None = None,
    ensure: bool = True,
) -> dict[tuple[int, int], Counts]:
    """{(cycle id, agency id): Counts} for the agencies given, or every agency (None)."""
    if ensure:
        ensure_current(cycles, now=now)
    rows = UnitCycleCount.objects.filter(
        cycle_id__in=[cycle.pk for cycle in cycles], scope=UnitCycleCount.Scope.AGENCY
    )
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=sorted(set(agency_ids)))
    return _sum(rows.values_list(*_VALUES), 0, now or timezone.now())


def rollup(
    cycle: Cycle, *, unit_id: int | None = None, agency_id: int | None = None, now: dt.datetime | None = None
) -> Counts:
    """One cycle's Counts for a unit's subtree, an agency, or (neither given) the whole directive."""
    if unit_id is not None:
        return unit_rollups([cycle], [unit_id], now=now).get((cycle.pk, unit_id), Counts())
    totals = agency_rollups([cycle], None if agency_id is None else [agency_id], now=now)
    combined = Counts()
    for counts in totals.values():
        combined += counts
    return combined


def recent_cycles(directive: Directive, *, weeks: int = 8, until: Cycle | None = None) -> list[Cycle]:
    """The directive's last `weeks` cycles up to `until` (default: the latest), oldest first."""
    cycles = Cycle.objects.filter(directive=directive).order_by("-week_start")
    if until is not None:
        cycles = cycles.filter(week_start__lte=until.week_start)
    return list(reversed(cycles[:weeks]))


def trend(
    cycles: Sequence[Cycle], totals: dict[tuple[int, int], Counts], target: int | None
) -> list[tuple[Cycle, Counts]]:
    """Week by week for one target (a unit or agency id; None sums every target of each cycle)."""
    series = []
    for cycle in cycles:
        if target is not None:
            series.append((cycle, totals.get((cycle.pk, target), Counts())))
            continue
        combined = Counts()
        for (cycle_id, _), counts in totals.items():
            if cycle_id == cycle.pk:
                combined += counts
        series.append((cycle, combined))
    return series

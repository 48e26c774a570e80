"""Progress and scoring of key results and objectives: plain functions over numbers, no Django.

Rules (docs/goals.md explains them with examples):
- number and percentage: the share of the distance from start to target covered, clamped to 0..1.
  The same formula serves decreasing targets (backlog from 40,000 down to 25,000).
- yes/no: 0 until done, then 1.
- milestone: milestones reached over milestones planned (start is normally 0, target their number).
- an objective's progress is the plain mean of its key results'.
- scores at the end of a period are the final progress rounded to one decimal, Google style: 0.7 and up
  delivered, 0.4 to 0.6 progress made, 0.3 and below fell short.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal

NUMBER, PERCENTAGE, YES_NO, MILESTONE = "number", "percentage", "yes_no", "milestone"
METRICS = (NUMBER, PERCENTAGE, YES_NO, MILESTONE)
PERIOD_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4]))?$")

Number = int | float | Decimal


def clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def kr_progress(metric: str, start: Number, target: Number, current: Number) -> float:
    """How far a key result is from its start (0.0) to its target (1.0), clamped to that range."""
    start, target, current = float(start), float(target), float(current)
    if metric == YES_NO:
        return 1.0 if current >= 1 else 0.0
    if metric == MILESTONE:
        return clamp((current - start) / (target - start)) if target > start else 1.0
    if metric not in (NUMBER, PERCENTAGE):
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    if target == start:
        # Nothing to cover: a "hold the line" result is met while current stays at or beyond target.
        return 1.0 if current >= target else 0.0
    return clamp((current - start) / (target - start))


def objective_progress(progresses: Iterable[float]) -> float | None:
    """The mean of the key results' progress; None for an objective without key results."""
    values = list(progresses)
    return sum(values) / len(values) if values else None


def score(progress: float) -> float:
    """A 0.0 to 1.0 end-of-period score, to one decimal."""
    return round(clamp(progress), 1)


def score_band(value: float | None) -> str:
    """'delivered' (0.7 to 1.0), 'progress' (0.4 to 0.6), 'fell short' (0.0 to 0.3), '' when unscored."""
    if value is None:
        return ""
    if value >= 0.7:
        return "delivered"
    return "progress" if value >= 0.4 else "fell short"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period: a calendar quarter ("2026-Q4") or a calendar year ("2026")."""
    match = PERIOD_PATTERN.match(period)
    if not match:
        raise ValueError(f"period {period!r} is not YYYY-Qn (2026-Q4) or YYYY (2026)")
    year = int(match["year"])
    if match["quarter"] is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    quarter = int(match["quarter"])
    first = dt.date(year, 3 * quarter - 2, 1)
    last = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, last - dt.timedelta(days=1)


def period_of(day: dt.date) -> str:
    """The quarter a day falls in, e.g. "2026-Q4"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def expected_progress(period: str, day: dt.date) -> float:
    """Where a steadily advancing key result would be on `day`: the elapsed share of the period."""
    first, last = period_bounds(period)
    return clamp(((day - first).days + 1) / ((last - first).days + 1))

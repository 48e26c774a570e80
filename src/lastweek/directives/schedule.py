"""When a directive's cycle opens, is due and closes: ISO weeks, named time zones and federal holidays.

Pure functions of the directive's schedule fields; no database access.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import holidays

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """A week that is not written as an ISO week (2026-W48)."""


@dataclass(frozen=True)
class CycleTimes:
    week_start: dt.date
    opens_at: dt.datetime
    deadline: dt.datetime
    closes_at: dt.datetime


def parse_week(text: str) -> dt.date:
    """The Monday of an ISO week written as 2026-W48."""
    match = WEEK_PATTERN.match(text.strip())
    if not match:
        raise WeekError(f"{text!r} is not an ISO week; write it like 2026-W48.")
    year, week = int(match[1]), int(match[2])
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise WeekError(f"{text!r}: {year} has no week {week}.") from exc


def week_label(day: dt.date) -> str:
    """The ISO week containing `day`, written as 2026-W48."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@cache
def _federal_holidays(year: int) -> holidays.HolidayBase:
    # The `holidays` package tracks observed dates (e.g. July 4 on a Saturday → Friday July 3).
    return holidays.country_holidays("US", years=[year, year + 1])


def is_federal_holiday(day: dt.date) -> bool:
    return day in _federal_holidays(day.year)


def next_business_day_if_holiday(day: dt.date) -> dt.date:
    """A deadline on a federal holiday moves to the next day that is neither a holiday nor a weekend."""
    if not is_federal_holiday(day):
        return day
    day += dt.timedelta(days=1)
    while day.weekday() >= 5 or is_federal_holiday(day):
        day += dt.timedelta(days=1)
    return day


def cycle_times(
    *,
    week_start: dt.date,
    opens_weekday: int,
    opens_time: dt.time,
    deadline_weekday: int,
    deadline_time: dt.time,
    time_zone: str,
    late_days: int,
) -> CycleTimes:
    """The cycle reporting on the week starting `week_start`: it opens on `opens_weekday` of that week and
    is due on the first `deadline_weekday` after the opening day (moved past a federal holiday)."""
    zone = ZoneInfo(time_zone)
    open_day = week_start + dt.timedelta(days=opens_weekday)
    days_to_deadline = (deadline_weekday - opens_weekday) % 7 or 7
    due_day = next_business_day_if_holiday(open_day + dt.timedelta(days=days_to_deadline))
    opens_at = dt.datetime.combine(open_day, opens_time, zone)
    deadline = dt.datetime.combine(due_day, deadline_time, zone)
    return CycleTimes(
        week_start=week_start,
        opens_at=opens_at.astimezone(dt.UTC),
        deadline=deadline.astimezone(dt.UTC),
        closes_at=(deadline + dt.timedelta(days=late_days)).astimezone(dt.UTC),
    )


def local_deadline(deadline: dt.datetime, directive_zone: str, employee_zone: str) -> dt.datetime:
    """The same calendar day and clock time as `deadline` (in the directive's zone), in the employee's
    own zone: 23:59 on Monday wherever they are."""
    local = deadline.astimezone(ZoneInfo(directive_zone))
    return dt.datetime.combine(local.date(), local.time(), ZoneInfo(employee_zone)).astimezone(dt.UTC)


def return_deadline(last_day_of_leave: dt.date, employee_zone: str, grace_hours: int) -> dt.datetime:
    """Back from leave the morning after the last day of leave; due `grace_hours` later."""
    back = dt.datetime.combine(
        last_day_of_leave + dt.timedelta(days=1), dt.time(0, 0), ZoneInfo(employee_zone)
    )
    return (back + dt.timedelta(hours=grace_hours)).astimezone(dt.UTC)

"""Scheduled jobs, run by `lastweek worker` (huey: SQLite queue by default, Redis when REDIS_URL is set)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from lastweek.directives.actions import run_schedule

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
@lock_task("directives-schedule")
def schedule_tick() -> dict[str, int]:
    """Every minute: open due cycles, close finished ones, apply policies that became effective."""
    run = run_schedule()
    if run.opened or run.closed or run.policies_applied:
        log.info(
            "Schedule: opened %d, closed %d cycles; applied %d policies",
            len(run.opened),
            len(run.closed),
            len(run.policies_applied),
        )
    return {"opened": len(run.opened), "closed": len(run.closed), "policies": len(run.policies_applied)}

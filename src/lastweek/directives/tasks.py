"""Scheduled jobs, run by `lastweek worker` (huey: SQLite queue by default, Redis when REDIS_URL is set)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from lastweek.directives.actions import run_schedule
from lastweek.directives.models import Cycle, Directive
from lastweek.directives.outbound import MailServerUnavailable, send_requests
from lastweek.mail import SendingLocked

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
@lock_task("directives-schedule")
def schedule_tick() -> dict[str, int]:
    """Every minute: open due cycles (and queue their request mail), close finished ones, apply
    policies that became effective."""
    run = run_schedule()
    for cycle in run.opened:
        send_cycle_requests(cycle.pk)
    if run.opened or run.closed or run.policies_applied:
        log.info(
            "Schedule: opened %d, closed %d cycles; applied %d policies",
            len(run.opened),
            len(run.closed),
            len(run.policies_applied),
        )
    return {"opened": len(run.opened), "closed": len(run.closed), "policies": len(run.policies_applied)}


@db_task(retries=12, retry_delay=300)
def send_cycle_requests(cycle_id: int) -> dict[str, int]:
    """Send an open cycle's request mail. Resumable: a retry (after a mail-server outage or a killed
    worker) sends only what was not handed over yet."""
    cycle = Cycle.objects.select_related("directive").get(pk=cycle_id)
    if cycle.state != Cycle.State.OPEN or cycle.directive.status != Directive.Status.ACTIVE:
        log.info("Not sending for cycle %s: it is %s", cycle_id, cycle.state)
        return {"sent": 0}
    try:
        result = send_requests(cycle)
    except SendingLocked:
        log.info("Cycle %s is already being sent by another worker", cycle_id)
        return {"sent": 0}
    except MailServerUnavailable as exc:
        log.warning("Mail server unavailable while sending cycle %s; will retry: %s", cycle_id, exc)
        raise
    return {"sent": result.sent, "failed": result.failed, "recovered": result.recovered}

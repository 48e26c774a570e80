"""Scheduled compliance jobs, run by `lastweek worker` beside the directives schedule."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from lastweek.compliance.models import CycleSummary
from lastweek.compliance.reminders import MailServerDown, send_digests, send_escalations, send_reminders
from lastweek.compliance.summaries import refresh_cycle, refresh_stale
from lastweek.directives.models import Cycle, Directive
from lastweek.mail import SendingLocked

log = logging.getLogger(__name__)


def _open_cycles():
    return Cycle.objects.filter(state=Cycle.State.OPEN, directive__status=Directive.Status.ACTIVE)


@db_periodic_task(crontab(minute="*"))
@lock_task("compliance-counts")
def refresh_counts() -> dict[str, int]:
    """Every minute: recount the units whose assignments changed (answers, automatic replies, bounces,
    policies, exemptions: `follow()` does it every second where the worker runs it); rebuild each open
    cycle in full when it has no counts yet or its last rebuild is older than
    COMPLIANCE_FULL_REFRESH_MINUTES."""
    now = timezone.now()
    stale_before = now - dt.timedelta(minutes=settings.COMPLIANCE_FULL_REFRESH_MINUTES)
    built = dict(CycleSummary.objects.values_list("cycle_id", "built_at"))
    rebuilt = recounted = 0
    for cycle in _open_cycles():
        if built.get(cycle.pk) is None or built[cycle.pk] < stale_before:
            refresh_cycle(cycle, now=now)
            rebuilt += 1
        else:
            recounted += refresh_stale(cycle, now=now)
    return {"rebuilt": rebuilt, "units_recounted": recounted}


@db_periodic_task(crontab(minute="*/15"))
@lock_task("compliance-notices")
def send_notices() -> dict[str, int]:
    """Every 15 minutes: reminders, digests and escalations that have become due. Each is sent once,
    so running more often only finds less to do."""
    now = timezone.now()
    sent = 0
    for cycle in _open_cycles().select_related("directive"):
        try:
            sent += send_reminders(cycle, now=now).sent
            sent += send_digests(cycle, now=now).sent
            sent += send_escalations(cycle, now=now).sent
        except SendingLocked:
            log.info("Cycle %s is sending mail in another job; notices wait for the next run", cycle.pk)
        except MailServerDown as exc:
            log.warning("Notices for cycle %s wait for the mail server: %s", cycle.pk, exc)
    return {"sent": sent}

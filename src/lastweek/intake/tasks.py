"""Background jobs of the email channel, run by `lastweek worker` (huey)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from lastweek.intake.actions import process_stored

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
@lock_task("intake-process-received")
def process_received_mail() -> dict[str, int]:
    """Every minute: parse and attribute what `lastweek smtpd --no-process` stored (state received)."""
    tally = process_stored()
    if tally.counts["processed"]:
        log.info("Processed %d received messages", tally.counts["processed"])
    return dict(tally.counts)

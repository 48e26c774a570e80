"""`lastweek digest CYCLE_ID`: each manager's digest of their direct reports, after the deadline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lastweek.compliance.cli import cycle_or_error
from lastweek.compliance.reminders import MailServerDown, send_digests
from lastweek.mail import SendingLocked
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = (
        "After the cycle's deadline, send each manager one digest of their direct reports' statuses. "
        "Safe to rerun: a manager who had theirs gets nothing more."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("cycle_id", type=int, help="The cycle (see `lastweek cycle list`).")

    def handle(self, *args, cycle_id: int, **options) -> None:
        require_migrated()
        cycle = cycle_or_error(cycle_id)
        if timezone.now() < cycle.deadline:
            raise CommandError(
                f"The deadline of {cycle.week} ({cycle.deadline:%Y-%m-%d %H:%M %Z}) has not passed."
            )
        try:
            self.stdout.write(f"Digests for {cycle.week}: {send_digests(cycle)}.")
        except SendingLocked:
            raise CommandError(
                f"Cycle {cycle_id} is sending mail in another job; try again when it ends."
            ) from None
        except MailServerDown as exc:
            raise CommandError(f"{exc}. Rerun when it answers: what was not sent goes first.") from None

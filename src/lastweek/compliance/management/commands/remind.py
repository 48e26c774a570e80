"""`lastweek remind CYCLE_ID`: remind who has not answered, before their deadline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from lastweek.compliance.cli import cycle_or_error
from lastweek.compliance.reminders import MailServerDown, send_escalations, send_reminders
from lastweek.mail import SendingLocked
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = (
        "Send the cycle's reminders to required assignees who have not answered and whose deadline is "
        "within LASTWEEK_REMINDER_HOURS (never to paused, exempt, voluntary or on-leave people), and the "
        "escalations that are due where an agency turned escalation on. Safe to rerun: nothing is sent twice."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("cycle_id", type=int, help="The cycle (see `lastweek cycle list`).")
        parser.add_argument(
            "--hours", type=int, help="Remind this many hours before the deadline (default: the setting)."
        )
        parser.add_argument("--no-escalations", action="store_true", help="Send reminders only.")

    def handle(self, *args, cycle_id: int, hours: int | None, no_escalations: bool, **options) -> None:
        require_migrated()
        cycle = cycle_or_error(cycle_id)
        try:
            reminders = send_reminders(cycle, hours=hours)
            self.stdout.write(f"Reminders for {cycle.week}: {reminders}.")
            if not no_escalations:
                self.stdout.write(f"Escalations for {cycle.week}: {send_escalations(cycle)}.")
        except SendingLocked:
            raise CommandError(
                f"Cycle {cycle_id} is sending mail in another job; try again when it ends."
            ) from None
        except MailServerDown as exc:
            raise CommandError(f"{exc}. Rerun when it answers: what was not sent goes first.") from None

"""`lastweek reprocess --state STATE`: parse and attribute stored messages again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from lastweek.intake.actions import process_stored
from lastweek.intake.models import InboundMessage
from lastweek.intake.summary import print_summary
from lastweek.migration_state import require_migrated

_STATES = [
    InboundMessage.State.RECEIVED,
    InboundMessage.State.PARSED,
    InboundMessage.State.QUARANTINED,
    InboundMessage.State.REFUSED,
]


class Command(BaseCommand):
    help = (
        "Parse and attribute again the stored messages in a state (after a parser fix, a roster change "
        "or an agency lifting a pause): quarantined, refused, or received (a backlog nobody processed). "
        "Answers already recorded are not recorded twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--state", required=True, choices=_STATES, help="Which messages to process again."
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Messages per transaction.")
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many messages.")
        parser.add_argument("--quiet", action="store_true", help="No progress, only the summary.")

    def handle(self, *args, state: str, batch_size: int, limit: int | None, quiet: bool, **options) -> None:
        require_migrated()
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = InboundMessage.objects.filter(state=state).count()
        console = Console(stderr=True, quiet=quiet)
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(f"Reprocessing {total:,} {state} messages", total=total)
            tally = process_stored(
                state,
                batch_size=batch_size,
                limit=limit,
                on_batch=lambda batch: bar.advance(task, batch.counts["processed"]),
            )
        print_summary(self.stdout, f"Reprocessed {state} messages", tally)

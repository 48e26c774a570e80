"""`lastweek import-roster FILE.csv`: validate the whole file, then apply it in one transaction."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lastweek.migration_state import require_migrated
from lastweek.org.roster import RosterInvalid
from lastweek.org.roster_import import import_roster

MAX_ERRORS_SHOWN = 1000


class Command(BaseCommand):
    help = (
        "Import an HR roster CSV (columns: see docs/roster.md). Every bad row is reported as "
        "'line N: reason' "
        "and nothing is written; otherwise employees are upserted by employee number and people missing "
        "from the file are marked separated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The roster CSV file (UTF-8, header line first).")
        parser.add_argument(
            "--only-listed-agencies",
            action="store_true",
            help="Mark as separated only missing people of the agencies the file lists "
            "(an agency's own roster).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar, only the summary.")

    def handle(self, *args, file: Path, only_listed_agencies: bool, quiet: bool, **options) -> None:
        require_migrated()
        if not file.exists():
            raise CommandError(f"{file} does not exist; give the path of a roster CSV file.")
        console = Console(stderr=True, quiet=quiet)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done, total=total)

            try:
                result = import_roster(file, only_listed_agencies=only_listed_agencies, progress=progress)
            except RosterInvalid as invalid:
                bar.stop()
                self._report_errors(file, invalid)
        table = Table(title=f"Roster imported from {file.name}")
        table.add_column("rows", justify="right")
        for name in ("created", "updated", "unchanged", "separated", "agencies_created", "units_created"):
            table.add_column(name.replace("_", " "), justify="right")
        table.add_row(
            *(
                f"{value:,}"
                for value in (
                    result.rows,
                    result.created,
                    result.updated,
                    result.unchanged,
                    result.separated,
                    result.agencies_created,
                    result.units_created,
                )
            )
        )
        Console().print(table)

    def _report_errors(self, file: Path, invalid: RosterInvalid) -> None:
        for error in invalid.errors[:MAX_ERRORS_SHOWN]:
            self.stderr.write(f"{file}: {error}")
        hidden = len(invalid.errors) - MAX_ERRORS_SHOWN
        if hidden > 0:
            self.stderr.write(f"… and {hidden:,} more")
        raise CommandError(
            f"{len(invalid.errors):,} bad row(s) in {file}; nothing was imported. "
            "Fix them and run the import again."
        )

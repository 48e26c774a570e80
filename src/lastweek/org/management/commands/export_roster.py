"""`lastweek export-roster --out FILE.csv`: the roster in the import's format."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import Progress

from lastweek.migration_state import require_migrated
from lastweek.org.models import Employee
from lastweek.org.roster_export import export_roster


class Command(BaseCommand):
    help = "Export the roster as CSV in the format import-roster reads (separated employees included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="File to write; standard output when omitted.")
        parser.add_argument(
            "--agency",
            action="append",
            dest="agencies",
            metavar="CODE",
            help="Only this agency (repeatable).",
        )

    def handle(self, *args, out: Path | None, agencies: list[str] | None, **options) -> None:
        require_migrated()
        if out is None:
            export_roster(sys.stdout, agency_codes=agencies)
            return
        total = Employee.objects.filter(**({"agency__code__in": agencies} if agencies else {})).count()
        with (
            out.open("w", newline="", encoding="utf-8") as handle,
            Progress(console=Console(stderr=True)) as bar,
        ):
            task = bar.add_task(f"Exporting to {out.name}", total=total)
            count = export_roster(
                handle, agency_codes=agencies, on_rows=lambda n: bar.update(task, completed=n)
            )
            bar.update(task, completed=count)
        self.stdout.write(f"Wrote {count:,} employees to {out}")

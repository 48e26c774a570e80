"""`lastweek import-okrs FILE`: validate a YAML or CSV file of objectives, then apply it at once."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lastweek.goals.okr_files import OkrFileInvalid, import_okrs
from lastweek.migration_state import require_migrated

MAX_ERRORS_SHOWN = 1000


class Command(BaseCommand):
    help = (
        "Import objectives and key results from a .yaml/.yml or .csv file (format: docs/goals.md). "
        "Every problem is reported as 'FILE: line N: reason' and nothing is written; otherwise objectives "
        "are created or updated by agency, period and code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The OKR file (.yaml, .yml or .csv, UTF-8).")

    def handle(self, *args, file: Path, **options) -> None:
        require_migrated()
        if not file.exists():
            raise CommandError(f"{file} does not exist; give the path of a .yaml or .csv OKR file.")
        try:
            result = import_okrs(file)
        except OkrFileInvalid as invalid:
            for error in invalid.errors[:MAX_ERRORS_SHOWN]:
                self.stderr.write(f"{file}: {error}")
            raise CommandError(
                f"{len(invalid.errors):,} error(s) in {file}; nothing was imported. Fix them, run it again."
            ) from None
        self.stdout.write(
            f"Imported {file.name}: {result.created} objective(s) created, {result.updated} updated, "
            f"{result.key_results} key result(s)."
        )

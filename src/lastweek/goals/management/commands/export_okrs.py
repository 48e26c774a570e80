"""`lastweek export-okrs`: write objectives and key results in the format import-okrs reads."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lastweek.goals.models import Objective
from lastweek.goals.okr_files import export_records, write_csv, write_yaml
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = "Export objectives and key results as YAML or CSV (the import's format; see docs/goals.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="File to write (.yaml, .yml or .csv); default stdout.")
        parser.add_argument(
            "--format", choices=["yaml", "csv"], help="Output format (default: from --out, else yaml)."
        )
        parser.add_argument("--agency", help="Only this agency's objectives (its code, e.g. VA).")
        parser.add_argument("--period", help="Only this period, e.g. 2026-Q4.")

    def handle(
        self, *args, out: Path | None, format: str | None, agency: str | None, period: str | None, **o
    ):
        require_migrated()
        kind = format or ("csv" if out is not None and out.suffix.lower() == ".csv" else "yaml")
        objectives = Objective.objects.select_related("agency", "unit").order_by(
            "agency__code", "period", "unit__depth", "code"
        )
        if agency:
            objectives = objectives.filter(agency__code=agency)
            if not objectives.exists():
                raise CommandError(f"No objectives for agency {agency}; check its code.")
        if period:
            objectives = objectives.filter(period=period)
        records = export_records(objectives)
        write = write_csv if kind == "csv" else write_yaml
        if out is None:
            write(records, sys.stdout)
            return
        with out.open("w", encoding="utf-8", newline="") as handle:
            write(records, handle)
        self.stderr.write(f"Wrote {len(records)} objective(s) to {out}")

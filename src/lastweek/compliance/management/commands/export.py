"""`lastweek export CYCLE_ID --format csv|parquet --scope agency:CODE --out FILE`: statuses and reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lastweek.compliance.exports import (
    Exporter,
    ExportError,
    ExportScope,
    select_cycles,
    write_csv,
    write_parquet,
)
from lastweek.migration_state import require_migrated


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date; write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Export one row per assignment (status, and the report's bullets where allowed) for a scope and "
        "one cycle or a range of weeks, as CSV or Parquet, streaming in constant memory."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "cycle_id", type=int, nargs="?", help="The cycle; omit it when giving --from/--to."
        )
        parser.add_argument(
            "--format", choices=["csv", "parquet"], default="csv", help="File format (default csv)."
        )
        parser.add_argument(
            "--scope",
            default="organization",
            help="agency:CODE, unit:ID (and all below it), employee:NUMBER, line:NUMBER (everyone below "
            "that person in the reporting line) or organization (default).",
        )
        parser.add_argument("--out", required=True, help="File to write; '-' writes CSV to standard output.")
        parser.add_argument(
            "--from", dest="date_from", type=_date, help="First reported week's Monday or earlier."
        )
        parser.add_argument("--to", dest="date_to", type=_date, help="Last reported week's Monday or later.")
        parser.add_argument("--directive", type=int, help="With --from/--to: only this directive's cycles.")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="Export what this user may see: their people's statuses and the report text their grants "
            "allow (audited). Without it the operator gets statuses for the scope and no report text.",
        )

    def handle(self, *args, **options) -> None:
        require_migrated()
        try:
            self._export(**options)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc

    def _export(self, cycle_id, format, scope, out, date_from, date_to, directive, as_user, **_) -> None:
        user = None
        if as_user:
            user = get_user_model().objects.filter(username=as_user, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {as_user!r}.")
        cycles = select_cycles(
            [cycle_id] if cycle_id else [], date_from=date_from, date_to=date_to, directive_id=directive
        )
        if not cycles:
            raise CommandError("No cycle starts within that range of weeks.")
        exporter = Exporter(cycles, ExportScope.parse(scope), user)
        if out == "-":
            if format != "csv":
                raise CommandError("Only CSV goes to standard output; give --out FILE for Parquet.")
            result = write_csv(exporter, self.stdout)
        else:
            result = self._to_file(exporter, format, Path(out))
        weeks = ", ".join(cycle.week for cycle in cycles[:4]) + (" …" if len(cycles) > 4 else "")
        self.stderr.write(
            f"Exported {result.rows:,} rows ({result.texts:,} with report text) for {scope}, weeks {weeks}."
        )

    def _to_file(self, exporter: Exporter, format: str, path: Path):
        columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("rows", total=exporter.assignments().count())
            exporter.on_chunk = lambda rows: progress.update(task, advance=rows)
            try:
                if format == "csv":
                    with path.open("w", newline="", encoding="utf-8") as handle:
                        return write_csv(exporter, handle)
                return write_parquet(exporter, str(path))
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None

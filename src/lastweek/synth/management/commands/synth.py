"""`lastweek synth workforce …`: deterministic synthetic data for the demo, tests and benchmarks."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lastweek.synth.workforce import write_roster_csv


class Command(BaseCommand):
    help = (
        "Generate deterministic synthetic data. Kinds: workforce (a roster CSV for import-roster), "
        "okrs (objectives and key results for every agency in the database and its top-level units), "
        "replies (a Maildir of realistic email replies to a cycle's requests)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        workforce = kinds.add_parser(
            "workforce",
            help="A roster CSV of a federal-like workforce, agency sizes after published headcounts.",
        )
        workforce.add_argument(
            "--employees", type=int, required=True, help="How many people (100 to 2,300,000)."
        )
        workforce.add_argument("--seed", type=int, default=42, help="Same seed, same file, byte for byte.")
        workforce.add_argument(
            "--agencies", type=int, help="How many agencies (default: grows with --employees)."
        )
        workforce.add_argument("--out", type=Path, required=True, help="The CSV file to write.")
        okrs = kinds.add_parser(
            "okrs", help="Mission-derived OKRs for every agency in the database and its top-level units."
        )
        okrs.add_argument("--seed", type=int, default=42, help="Same seed and organization, same OKRs.")
        okrs.add_argument("--period", help="The period, e.g. 2026-Q4 (default: the current quarter).")
        okrs.add_argument("--out", type=Path, help="Write an import-okrs YAML file instead of importing.")

        replies = kinds.add_parser(
            "replies",
            help="A Maildir of realistic replies (answers in the major clients' styles, out-of-office "
            "replies, bounces) to the requests of a cycle's required and voluntary assignments.",
        )
        replies.add_argument(
            "cycle_id", type=int, metavar="CYCLE_ID", help="The cycle whose requests are answered."
        )
        replies.add_argument(
            "--out", type=Path, required=True, help="The Maildir to write (created if missing)."
        )
        replies.add_argument(
            "--seed", type=int, default=42, help="Same seed and cycle, same messages, byte for byte."
        )
        replies.add_argument(
            "--limit", type=int, help="At most this many replies (the first assignments by id)."
        )

    def handle(self, *args, kind: str, **options) -> None:
        if kind == "workforce":
            self._workforce(options["employees"], options["seed"], options["agencies"], options["out"])
        elif kind == "okrs":
            self._okrs(options["seed"], options["period"], options["out"])
        elif kind == "replies":
            self._replies(options["cycle_id"], options["out"], options["seed"], options["limit"])

    def _replies(self, cycle_id: int, out: Path, seed: int, limit: int | None) -> None:
        from lastweek.directives.models import Cycle
        from lastweek.synth.assignment_replies import asked_count, write_cycle_replies

        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        cycle = Cycle.objects.select_related("directive").filter(pk=cycle_id).first()
        if cycle is None:
            raise CommandError(f"No cycle {cycle_id}. `lastweek cycle list` shows the cycles.")
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(f"Writing replies to {out}", total=asked_count(cycle, limit))
            kinds = write_cycle_replies(
                cycle, out, seed, limit, on_message=lambda n: bar.update(task, completed=n)
            )
            written = kinds["answer"] + kinds["auto_reply"] + kinds["bounce"]
            bar.update(task, completed=written)
        self.stdout.write(
            f"Wrote {written:,} {'reply' if written == 1 else 'replies'} to {out}/new: "
            f"{kinds['answer']:,} answers, {kinds['auto_reply']:,} automatic replies, "
            f"{kinds['bounce']:,} bounces, {kinds['late']:,} late"
        )

    def _okrs(self, seed: int, period: str | None, out: Path | None) -> None:
        from lastweek.goals.okr_files import write_yaml
        from lastweek.synth.okrs import create_okrs, okr_records

        if out is not None:
            records = okr_records(seed, period)
            with out.open("w", encoding="utf-8") as handle:
                write_yaml(records, handle)
            self.stdout.write(f"Wrote {len(records):,} objectives to {out}")
            return
        self.stdout.write(f"Created or updated {create_okrs(seed, period):,} objectives")

    def _workforce(self, employees: int, seed: int, agencies: int | None, out: Path) -> None:
        if employees < 1:
            raise CommandError("--employees must be at least 1.")
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(f"Writing {out.name}", total=employees)
            written = write_roster_csv(
                out, employees, seed=seed, agencies=agencies, on_row=lambda n: bar.update(task, completed=n)
            )
            bar.update(task, completed=written)
        self.stdout.write(f"Wrote {written:,} employees to {out}")

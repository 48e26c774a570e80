"""`lastweek cycle open|close|list`: cycles by hand, beside the schedule."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from lastweek.directives.actions import DirectiveError, close_cycle, open_cycle
from lastweek.directives.models import Cycle, Directive
from lastweek.directives.schedule import WeekError, week_label
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = "Open, close or list the weekly cycles of directives."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        opening = actions.add_parser("open", help="Open a directive's cycle and freeze who is asked.")
        opening.add_argument("directive_id", type=int, help="The directive (see the admin or `cycle list`).")
        opening.add_argument(
            "--week", help="ISO week of the reported work, e.g. 2026-W48 (default: this week)."
        )
        closing = actions.add_parser("close", help="Stop taking answers for a cycle.")
        closing.add_argument("cycle_id", type=int, help="The cycle to close.")
        listing = actions.add_parser("list", help="List cycles, newest first.")
        listing.add_argument("--directive", type=int, help="Only this directive's cycles.")
        listing.add_argument("--limit", type=int, default=20, help="How many to show (default 20).")

    def handle(self, *args, action: str, **options) -> None:
        require_migrated()
        try:
            getattr(self, f"_{action}")(**options)
        except (DirectiveError, WeekError) as exc:
            raise CommandError(str(exc)) from exc

    def _open(self, directive_id: int, week: str | None, **_) -> None:
        directive = Directive.objects.filter(pk=directive_id).first()
        if directive is None:
            raise CommandError(f"No directive {directive_id}; `lastweek cycle list` shows the directives.")
        cycle = open_cycle(directive, week or week_label(timezone.localdate()))
        self.stderr.write(f"Opened {cycle.week} of “{directive}”: {cycle.assignment_count:,} assignments.")
        self.stdout.write(str(cycle.pk))

    def _close(self, cycle_id: int, **_) -> None:
        cycle = Cycle.objects.filter(pk=cycle_id).first()
        if cycle is None:
            raise CommandError(f"No cycle {cycle_id}; `lastweek cycle list` shows them.")
        close_cycle(cycle)
        self.stdout.write(f"Closed cycle {cycle.pk} ({cycle.week}).")

    def _list(self, directive: int | None, limit: int, **_) -> None:
        cycles = Cycle.objects.select_related("directive").order_by("-week_start", "-id")
        if directive:
            cycles = cycles.filter(directive_id=directive)
        table = Table("cycle", "directive", "week", "state", "deadline", "assignments")
        for cycle in cycles[:limit]:
            table.add_row(
                str(cycle.pk),
                f"{cycle.directive_id} {cycle.directive}",
                cycle.week,
                cycle.state,
                f"{timezone.localtime(cycle.deadline):%a %Y-%m-%d %H:%M %Z}",
                f"{cycle.assignment_count:,}",
            )
        Console(file=self.stdout, width=140).print(table)
        if not cycles.exists():
            self.stdout.write("No cycles yet. Directives:")
            for d in Directive.objects.all():
                self.stdout.write(f"  {d.pk}  {d.title} ({d.status})")

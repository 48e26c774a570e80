"""`lastweek worker`: runs background jobs and the schedule (opening and closing cycles)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = "Run the background job worker and scheduler (huey). Stop with Ctrl-C or SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workers", type=int, help="Worker threads (default LASTWEEK_WORKERS).")

    def handle(self, *args, workers: int | None, **options) -> None:
        require_migrated()
        extra = {"workers": workers} if workers else {}
        call_command("run_huey", **extra)

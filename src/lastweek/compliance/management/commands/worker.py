"""`lastweek worker`: runs background jobs and the schedule (opening and closing cycles, notices), and
keeps the compliance counts current within about a second of each change."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from lastweek.compliance.summaries import follow
from lastweek.migration_state import require_migrated


class Command(BaseCommand):
    help = "Run the background job worker and scheduler (huey). Stop with Ctrl-C or SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workers", type=int, help="Worker threads (default LASTWEEK_WORKERS).")

    def handle(self, *args, workers: int | None, **options) -> None:
        require_migrated()
        stop = threading.Event()
        every = settings.COMPLIANCE_RECOUNT_SECONDS
        counter = threading.Thread(target=follow, args=(stop,), kwargs={"every": every}, daemon=True)
        counter.start()
        extra = {"workers": workers} if workers else {}
        try:
            call_command("run_huey", **extra)
        finally:
            stop.set()
            counter.join(timeout=every + 5)
